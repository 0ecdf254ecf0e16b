using System.Globalization;

namespace Grinder.Tests.Binance;

/// <summary>One userTrades row of the catalogue and what the client must make of it.</summary>
/// <param name="Name">Short case name (shown by xunit).</param>
/// <param name="Json">The raw row; <c>{ID}</c> and <c>{TIME}</c> are replaced per use.</param>
/// <param name="ExpectedReason">Null when the row must be counted; otherwise the exact rejection reason.</param>
/// <param name="IdReadable">Whether the rejected row still carries an id the cursor can move past.</param>
public sealed record RowCase(string Name, string Json, string? ExpectedReason, bool IdReadable = true)
{
    public string Render(long id, long timeMs) =>
        Json.Replace("{ID}", id.ToString(CultureInfo.InvariantCulture), StringComparison.Ordinal)
            .Replace("{TIME}", timeMs.ToString(CultureInfo.InvariantCulture), StringComparison.Ordinal);

    public override string ToString() => Name;
}

/// <summary>The catalogue of good, bad and weird userTrades rows shared by the parser tests and the HTTP tests.</summary>
public static class RowCatalogue
{
    public const string Symbol = "BTCUSDT";

    // Field order and value formats as in Binance's "Account Trade List (USER_DATA)" response example.
    private static readonly (string Name, string Value)[] BaseFields =
    [
        ("buyer", "false"),
        ("commission", "\"-0.07819010\""),
        ("commissionAsset", "\"USDT\""),
        ("id", "{ID}"),
        ("maker", "false"),
        ("orderId", "25851813"),
        ("price", "\"7819.01\""),
        ("qty", "\"0.002\""),
        ("quoteQty", "\"15.63802\""),
        ("realizedPnl", "\"-0.91539999\""),
        ("side", "\"SELL\""),
        ("positionSide", "\"SHORT\""),
        ("symbol", "\"BTCUSDT\""),
        ("time", "{TIME}"),
    ];

    /// <summary>A valid row with <paramref name="replace"/> applied (value "REMOVE" drops the field).</summary>
    public static string Row(params (string Name, string Value)[] replace)
    {
        var parts = new List<string>();
        foreach (var (name, value) in BaseFields)
        {
            var match = replace.FirstOrDefault(r => r.Name == name);
            var finalValue = match.Name is null ? value : match.Value;
            if (finalValue != "REMOVE")
            {
                parts.Add($"\"{name}\":{finalValue}");
            }
        }

        foreach (var (name, value) in replace.Where(r => BaseFields.All(b => b.Name != r.Name)))
        {
            parts.Add($"\"{name}\":{value}");
        }

        return "{" + string.Join(",", parts) + "}";
    }

    private static RowCase Bad(string name, string reason, params (string Name, string Value)[] replace) => new(name, Row(replace), reason);

    private static RowCase BadNoId(string name, string reason, params (string Name, string Value)[] replace) =>
        new(name, Row(replace), reason, IdReadable: false);

    public static readonly IReadOnlyList<RowCase> Valid =
    [
        new("exact docs row, maker rebate (negative commission)", Row(), null),
        new("zero commission", Row(("commission", "\"0\"")), null),
        new("buy side maker", Row(("side", "\"BUY\""), ("buyer", "true"), ("maker", "true"), ("positionSide", "\"LONG\"")), null),
        new("unknown extra field is ignored", Row(("marginAsset", "\"USDT\"")), null),
        new("escaped side value", Row(("side", "\"\\u0053ELL\"")), null),
        new("no buyer field", Row(("buyer", "REMOVE")), null),
        new("BNB commission", Row(("commission", "\"0.00001234\""), ("commissionAsset", "\"BNB\"")), null),
    ];

    public static readonly IReadOnlyList<RowCase> Rejected =
    [
        Bad("price NaN", "price: not a plain decimal number", ("price", "\"NaN\"")),
        Bad("price Infinity", "price: not a plain decimal number", ("price", "\"Infinity\"")),
        Bad("price -Infinity", "price: not a plain decimal number", ("price", "\"-Infinity\"")),
        Bad("price exponent", "price: not a plain decimal number", ("price", "\"1e5\"")),
        Bad("price exponent with sign", "price: not a plain decimal number", ("price", "\"7.8E+3\"")),
        Bad("price empty", "price: empty", ("price", "\"\"")),
        Bad("price zero", "price: must be > 0", ("price", "\"0\"")),
        Bad("price negative", "price: must be > 0", ("price", "\"-7819.01\"")),
        Bad("price as JSON number", "price: expected a JSON string", ("price", "7819.01")),
        Bad("price leading space", "price: not a plain decimal number", ("price", "\" 7819.01\"")),
        Bad("price thousands separator", "price: not a plain decimal number", ("price", "\"7,819.01\"")),
        Bad("price decimal comma", "price: not a plain decimal number", ("price", "\"7819,01\"")),
        Bad("price plus sign", "price: not a plain decimal number", ("price", "\"+7819.01\"")),
        Bad("price hex", "price: not a plain decimal number", ("price", "\"0x1A\"")),
        Bad("price two points", "price: not a plain decimal number", ("price", "\"78.19.01\"")),
        Bad("price no integer part", "price: not a plain decimal number", ("price", "\".5\"")),
        Bad("price beyond decimal range", "price: out of decimal range", ("price", "\"99999999999999999999999999999999\"")),
        Bad("price null", "price: expected a JSON string", ("price", "null")),
        Bad("price object", "price: expected a JSON string", ("price", "{\"v\":\"1\"}")),
        Bad("qty zero", "qty: must be > 0", ("qty", "\"0\"")),
        Bad("qty negative", "qty: must be > 0", ("qty", "\"-0.002\"")),
        Bad("qty missing", "missing field: qty", ("qty", "REMOVE")),
        Bad("commission NaN", "commission: not a plain decimal number", ("commission", "\"NaN\"")),
        Bad("commission text", "commission: not a plain decimal number", ("commission", "\"abc\"")),
        Bad("quoteQty negative", "quoteQty: must be >= 0", ("quoteQty", "\"-15.63802\"")),
        Bad("realizedPnl exponent", "realizedPnl: not a plain decimal number", ("realizedPnl", "\"1e-5\"")),
        Bad("side lowercase", "side: must be BUY or SELL", ("side", "\"sell\"")),
        Bad("side unknown", "side: must be BUY or SELL", ("side", "\"HOLD\"")),
        Bad("side missing", "missing field: side", ("side", "REMOVE"), ("buyer", "REMOVE")),
        Bad("maker as string", "maker: expected true or false", ("maker", "\"false\"")),
        Bad("maker null", "maker: expected true or false", ("maker", "null")),
        Bad("maker missing", "missing field: maker", ("maker", "REMOVE")),
        Bad("buyer contradicts side", "buyer: disagrees with side", ("buyer", "true")),
        Bad("other symbol", "symbol: not the requested symbol", ("symbol", "\"ETHUSDT\"")),
        Bad("symbol lowercase", "symbol: not the requested symbol", ("symbol", "\"btcusdt\"")),
        Bad("commissionAsset empty", "commissionAsset: empty", ("commissionAsset", "\"\"")),
        Bad("commissionAsset with space", "commissionAsset: not an asset code", ("commissionAsset", "\"US DT\"")),
        Bad("commissionAsset missing", "missing field: commissionAsset", ("commissionAsset", "REMOVE")),
        Bad("orderId zero", "orderId: must be a positive integer", ("orderId", "0")),
        Bad("orderId as string", "orderId: expected a JSON number", ("orderId", "\"25851813\"")),
        Bad("time negative", "time: must be a positive integer", ("time", "-1")),
        Bad("time fractional", "time: not a 64-bit integer", ("time", "1569514978020.5")),
        Bad("positionSide unknown", "positionSide: must be BOTH, LONG or SHORT", ("positionSide", "\"SIDEWAYS\"")),
        Bad("price twice", "duplicate field: price", ("price", "\"7819.01\",\"price\":\"1\"")),
        BadNoId("id negative", "id: must be a positive integer", ("id", "-5")),
        BadNoId("id as string", "id: expected a JSON number", ("id", "\"{ID}\"")),
        BadNoId("id fractional", "id: not a 64-bit integer", ("id", "{ID}.5")),
        BadNoId("id beyond Int64", "id: not a 64-bit integer", ("id", "9223372036854775808")),
        BadNoId("id missing", "missing field: id", ("id", "REMOVE")),
        new("row is a number", "42", "row is not a JSON object", IdReadable: false),
        new("row is null", "null", "row is not a JSON object", IdReadable: false),
        new("row is an array", "[{ID},\"BTCUSDT\"]", "row is not a JSON object", IdReadable: false),
        new("row is a string", "\"trade {ID}\"", "row is not a JSON object", IdReadable: false),
        new("row is an empty object", "{}", "missing field: id", IdReadable: false),
    ];

    public static IEnumerable<object[]> ValidCases => Valid.Select(c => new object[] { c });

    public static IEnumerable<object[]> RejectedCases => Rejected.Select(c => new object[] { c });
}
