using System.Globalization;
using System.Security.Cryptography;
using System.Text;

namespace Grinder.FakeBinance;

/// <summary>The parameters of a SIGNED request, checked the way Binance documents "SIGNED (TRADE and USER_DATA) Endpoint Security".</summary>
/// <remarks>Written independently of the service's client on purpose: a signing bug must not hide in shared code.</remarks>
internal sealed class SignedQuery
{
    private const string SignatureName = "signature";

    /// <summary>recvWindow default and maximum: Binance "Timing security".</summary>
    private const long DefaultRecvWindowMs = 5000;

    private const long MaxRecvWindowMs = 60000;

    /// <summary>A timestamp more than 1000 ms ahead of server time is refused (-1021, second message).</summary>
    private const long MaxAheadMs = 1000;

    private readonly Dictionary<string, string> _values;

    private SignedQuery(Dictionary<string, string> values)
    {
        _values = values;
    }

    /// <summary>Parameter names present, signature excluded.</summary>
    public IReadOnlyCollection<string> Names => _values.Keys;

    public string? Get(string name) => _values.TryGetValue(name, out var value) ? value : null;

    /// <summary>Splits the raw query (as sent, without '?') and checks signature and timing against <paramref name="secret"/>.</summary>
    public static ApiError? TryParse(string rawQuery, string secret, long serverTimeMs, out SignedQuery query)
    {
        query = new SignedQuery(new Dictionary<string, string>(StringComparer.Ordinal));
        var pairs = rawQuery.Length == 0 ? [] : rawQuery.Split('&');
        string? signature = null;
        for (var i = 0; i < pairs.Length; i++)
        {
            var pair = pairs[i];
            var eq = pair.IndexOf('=');
            var name = Uri.UnescapeDataString(eq < 0 ? pair : pair[..eq]);
            var value = eq < 0 ? string.Empty : Uri.UnescapeDataString(pair[(eq + 1)..].Replace('+', ' '));
            if (name == SignatureName)
            {
                // The signature must be the end part of the query string: Binance SIGNED endpoint rules.
                if (i != pairs.Length - 1 || signature is not null)
                {
                    return ApiError.InvalidSignature();
                }

                signature = value;
                continue;
            }

            if (!query._values.TryAdd(name, value))
            {
                return ApiError.DuplicateParameter(name);
            }
        }

        if (string.IsNullOrEmpty(signature))
        {
            return ApiError.Mandatory(SignatureName);
        }

        // totalParams is the exact query string before "&signature=" (no re-encoding, no re-ordering).
        // The signature is the last pair, so re-joining the others gives back the exact original bytes.
        var signedPart = string.Join('&', pairs[..^1]);
        if (!SignatureMatches(secret, signedPart, signature))
        {
            return ApiError.InvalidSignature();
        }

        var timestampText = query.Get("timestamp");
        if (string.IsNullOrEmpty(timestampText))
        {
            return ApiError.Mandatory("timestamp");
        }

        if (!TryParseLong(timestampText, out var timestamp))
        {
            return ApiError.IllegalCharacters("timestamp");
        }

        var recvWindow = DefaultRecvWindowMs;
        var recvText = query.Get("recvWindow");
        if (recvText is not null)
        {
            if (!TryParseLong(recvText, out recvWindow))
            {
                return ApiError.IllegalCharacters("recvWindow");
            }

            if (recvWindow > MaxRecvWindowMs)
            {
                return ApiError.BadRecvWindow();
            }

            if (recvWindow <= 0)
            {
                return ApiError.InvalidParameter("recvWindow");
            }
        }

        // Binance: accept only if timestamp < serverTime + 1000 and serverTime - timestamp <= recvWindow.
        if (timestamp >= serverTimeMs + MaxAheadMs)
        {
            return ApiError.AheadOfServerTime();
        }

        return serverTimeMs - timestamp > recvWindow ? ApiError.OutsideRecvWindow() : null;
    }

    public static bool TryParseLong(string text, out long value) =>
        long.TryParse(text, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out value);

    /// <summary>The query with every signature value replaced, safe to keep in a log.</summary>
    public static string Redact(string rawQuery) =>
        string.Join('&', rawQuery.Split('&').Select(pair =>
            pair.StartsWith(SignatureName + "=", StringComparison.Ordinal) ? SignatureName + "=REDACTED" : pair));

    private static bool SignatureMatches(string secret, string signedPart, string signature)
    {
        var expected = HMACSHA256.HashData(Encoding.UTF8.GetBytes(secret), Encoding.UTF8.GetBytes(signedPart));
        byte[] given;
        try
        {
            // Hex is compared as bytes, so case does not matter ("The signature is not case sensitive": Binance docs).
            given = Convert.FromHexString(signature);
        }
        catch (FormatException)
        {
            return false;
        }

        return CryptographicOperations.FixedTimeEquals(expected, given);
    }
}
