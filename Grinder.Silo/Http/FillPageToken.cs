using System.Buffers.Text;
using System.Globalization;
using System.Text;
using Grinder.Grains.Binance;
using Grinder.Grains.Ledger;

namespace Grinder.Silo.Http;

/// <summary>
/// The <c>next</c>/<c>after</c> token of <c>GET /fills</c>: the page key of the last row returned, as base64url
/// (RFC 4648 §5, safe in a query string without escaping). Clients treat it as opaque.
/// </summary>
public static class FillPageToken
{
    private const string Version = "v1";

    public static string Encode(FillPageKey key) =>
        Base64Url.EncodeToString(Encoding.UTF8.GetBytes(string.Join('|',
            Version,
            key.TimeMs.ToString(CultureInfo.InvariantCulture),
            key.Symbol,
            key.TradeId.ToString(CultureInfo.InvariantCulture),
            key.Side == FillSide.Buy ? "B" : "S")));

    /// <summary>The page key of a token from <see cref="Encode"/>, or null for anything else.</summary>
    public static FillPageKey? Decode(string token)
    {
        if (token.Length is 0 or > 200 || !Base64Url.IsValid(token))
        {
            return null;
        }

        string text;
        try
        {
            text = Encoding.UTF8.GetString(Base64Url.DecodeFromChars(token));
        }
        catch (FormatException)
        {
            return null;
        }

        var parts = text.Split('|');
        return parts.Length == 5
            && parts[0] == Version
            && long.TryParse(parts[1], NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var time)
            && parts[2].Length > 0
            && long.TryParse(parts[3], NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var id)
            && parts[4] is "B" or "S"
                ? new FillPageKey(time, parts[2], id, parts[4] == "B" ? FillSide.Buy : FillSide.Sell)
                : null;
    }
}
