using System.Globalization;
using System.Security.Cryptography;
using System.Text;

namespace Grinder.Grains.Binance;

/// <summary>Signs Binance SIGNED (USER_DATA) requests.</summary>
/// <remarks>
/// Binance USD-M "SIGNED (TRADE and USER_DATA) Endpoint Security": the signature is HMAC-SHA256 of the exact
/// query string with the secret key as key, sent as the last parameter <c>signature</c>; the key travels in the
/// <c>X-MBX-APIKEY</c> header. Lowercase hex is what the documentation's <c>openssl dgst</c> example prints.
/// </remarks>
public static class BinanceSigner
{
    /// <summary>Lowercase hex HMAC-SHA256 of <paramref name="query"/> keyed by <paramref name="secret"/>.</summary>
    public static string Sign(string secret, string query)
    {
        ArgumentNullException.ThrowIfNull(secret);
        ArgumentNullException.ThrowIfNull(query);
        var mac = HMACSHA256.HashData(Encoding.UTF8.GetBytes(secret), Encoding.UTF8.GetBytes(query));
        return Convert.ToHexStringLower(mac);
    }

    /// <summary>
    /// Appends <c>recvWindow</c> and <c>timestamp</c> to <paramref name="unsignedQuery"/>, signs the result and
    /// appends <c>signature</c> last. Returns the full query and, separately, the signature (for redaction).
    /// </summary>
    public static (string Query, string Signature) SignQuery(string unsignedQuery, string secret, long timestampMs, TimeSpan recvWindow)
    {
        var builder = new StringBuilder(unsignedQuery.Length + 64);
        builder.Append(unsignedQuery);
        if (builder.Length > 0)
        {
            builder.Append('&');
        }

        builder.Append("recvWindow=").Append(((long)recvWindow.TotalMilliseconds).ToString(CultureInfo.InvariantCulture))
            .Append("&timestamp=").Append(timestampMs.ToString(CultureInfo.InvariantCulture));
        var payload = builder.ToString();
        var signature = Sign(secret, payload);
        return (payload + "&signature=" + signature, signature);
    }
}
