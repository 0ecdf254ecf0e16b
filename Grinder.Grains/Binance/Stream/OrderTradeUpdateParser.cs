using System.Globalization;
using System.Text;
using System.Text.Json;

namespace Grinder.Grains.Binance.Stream;

/// <summary>
/// Parses user data stream messages into the same <see cref="ParsedTrade"/> a REST row becomes, with the same validation
/// (strict decimals, BUY/SELL, BOTH/LONG/SHORT, positive ids, price and qty) so both feeders agree on every amount.
/// </summary>
/// <remarks>
/// Binance USD-M "Event: Order Update": <c>{"e":"ORDER_TRADE_UPDATE","E":..,"T":..,"o":{"s","S","i","x","X","t","l","L","n","N",
/// "m","rp","ps","T",...}}</c>; amounts are strings. <c>n</c>/<c>N</c> are absent when there is no commission: that is a zero
/// commission with no asset (<see cref="ParsedTrade.CommissionAsset"/> empty). <c>t</c> is the same id as userTrades' <c>id</c>.
/// A combined connection wraps each payload as <c>{"stream":"&lt;listenKey&gt;","data":{...}}</c>; the wrapper is taken off
/// here and the key is never kept.
/// </remarks>
public static class OrderTradeUpdateParser
{
    private const int MaxAssetLength = 20;

    public static StreamMessage Parse(ReadOnlySpan<byte> utf8)
    {
        JsonDocument document;
        try
        {
            document = JsonDocument.Parse(utf8.ToArray(), new JsonDocumentOptions { MaxDepth = 16 });
        }
        catch (JsonException)
        {
            return Malformed("message is not JSON", utf8);
        }

        using (document)
        {
            var root = document.RootElement;
            if (root.ValueKind == JsonValueKind.Object && root.TryGetProperty("data", out var data) && root.TryGetProperty("stream", out _))
            {
                root = data;
            }

            if (root.ValueKind != JsonValueKind.Object || !root.TryGetProperty("e", out var type) || type.ValueKind != JsonValueKind.String)
            {
                return Malformed("message has no event type", utf8);
            }

            var eventTime = ReadEventTime(root);
            switch (type.GetString())
            {
                case "listenKeyExpired":
                    return new StreamMessage(StreamMessageKind.ListenKeyExpired, null, null, eventTime);
                case "ORDER_TRADE_UPDATE":
                    break;
                default:
                    return new StreamMessage(StreamMessageKind.Other, null, null, eventTime);
            }

            if (!root.TryGetProperty("o", out var order) || order.ValueKind != JsonValueKind.Object)
            {
                return new StreamMessage(StreamMessageKind.Rejected, null, Reject(null, null, null, "missing field: o", utf8), eventTime);
            }

            // Only execution type TRADE carries a fill; NEW, CANCELED, EXPIRED, AMENDMENT... change no position.
            if (!order.TryGetProperty("x", out var execution) || execution.ValueKind != JsonValueKind.String)
            {
                return new StreamMessage(StreamMessageKind.Rejected, null, Reject(Text(order, "s"), null, null, "missing field: x", utf8), eventTime);
            }

            if (execution.GetString() != "TRADE")
            {
                return new StreamMessage(StreamMessageKind.Other, null, null, eventTime);
            }

            return ParseFill(order, eventTime, utf8);
        }
    }

    private static StreamMessage ParseFill(JsonElement o, long? eventTime, ReadOnlySpan<byte> utf8)
    {
        var symbol = Text(o, "s");
        var idOk = TryLong(o, "t", out var id);
        var timeOk = TryLong(o, "T", out var time);
        long? readableId = idOk ? id : null;
        long? readableTime = timeOk ? time : null;

        var orderIdOk = TryLong(o, "i", out var orderId);
        var qtyProblem = Amount(o, "l", out var qty);
        var priceProblem = Amount(o, "L", out var price);
        var pnlProblem = Amount(o, "rp", out var realizedPnl);
        var side = Text(o, "S") switch
        {
            "BUY" => FillSide.Buy,
            "SELL" => FillSide.Sell,
            _ => (FillSide?)null,
        };

        var error = string.IsNullOrEmpty(symbol) ? "missing field: s"
            : !idOk ? "t: missing or not a positive integer"
            : !orderIdOk ? "i: missing or not a positive integer"
            : !timeOk ? "T: missing or not a positive integer"
            : side is null ? "S: must be BUY or SELL"
            : qtyProblem ?? (qty <= 0 ? "l: must be > 0" : null)
            ?? priceProblem ?? (price <= 0 ? "L: must be > 0" : null)
            ?? pnlProblem;
        var positionSide = Text(o, "ps") is "BOTH" or "LONG" or "SHORT" ? Text(o, "ps") : null;
        error ??= positionSide is null ? "ps: must be BOTH, LONG or SHORT" : null;
        var maker = o.TryGetProperty("m", out var m) && m.ValueKind is JsonValueKind.True or JsonValueKind.False ? m.GetBoolean() : (bool?)null;
        error ??= maker is null ? "m: missing or not a boolean" : null;

        // "n"/"N" absent: no commission (Binance omits both). One without the other is a broken event.
        var commission = 0m;
        var asset = string.Empty;
        var hasN = o.TryGetProperty("n", out _);
        var hasAsset = o.TryGetProperty("N", out var assetElement) && assetElement.ValueKind != JsonValueKind.Null;
        if (error is null && (hasN || hasAsset))
        {
            error = !hasN ? "n: missing while N is present"
                : !hasAsset ? "N: missing while n is present"
                : Amount(o, "n", out commission);
            if (error is null)
            {
                asset = assetElement.ValueKind == JsonValueKind.String ? assetElement.GetString()! : string.Empty;
                error = asset.Length == 0 ? "N: empty"
                    : asset.Length > MaxAssetLength || !asset.All(char.IsAsciiLetterOrDigit) ? "N: not an asset code"
                    : null;
            }
        }

        if (error is not null)
        {
            return new StreamMessage(StreamMessageKind.Rejected, null, Reject(symbol, readableId, readableTime, error, utf8), eventTime);
        }

        var trade = new ParsedTrade(
            symbol!, id, orderId, side!.Value, maker!.Value ? FillLiquidity.Maker : FillLiquidity.Taker,
            price, qty, qty * price, realizedPnl, commission, asset, time, positionSide!);
        return new StreamMessage(StreamMessageKind.Fill, trade, null, eventTime);
    }

    private static StreamMessage Malformed(string reason, ReadOnlySpan<byte> utf8) =>
        new(StreamMessageKind.Malformed, null, Reject(null, null, null, reason, utf8), null);

    private static RejectedRow Reject(string? symbol, long? id, long? time, string reason, ReadOnlySpan<byte> utf8) =>
        new(symbol ?? string.Empty, id, time, reason, Raw(utf8));

    /// <summary>The raw message, truncated like a rejected REST row, with the combined wrapper's listenKey blanked: a key is a
    /// credential and rejected rows reach /healthz.</summary>
    private static string Raw(ReadOnlySpan<byte> utf8)
    {
        var text = Encoding.UTF8.GetString(utf8.Length > TradeRowParser.RawMaxChars * 4 ? utf8[..(TradeRowParser.RawMaxChars * 4)] : utf8);
        var stream = text.IndexOf("\"stream\"", StringComparison.Ordinal);
        if (stream >= 0)
        {
            var open = text.IndexOf('"', text.IndexOf(':', stream) + 1);
            var close = open < 0 ? -1 : text.IndexOf('"', open + 1);
            if (close > open)
            {
                text = string.Concat(text.AsSpan(0, open + 1), "***", text.AsSpan(close));
            }
        }

        return text.Length > TradeRowParser.RawMaxChars ? text[..TradeRowParser.RawMaxChars] : text;
    }

    private static long? ReadEventTime(JsonElement root)
    {
        // E is a number on ORDER_TRADE_UPDATE and a string on listenKeyExpired (both as Binance documents them).
        if (!root.TryGetProperty("E", out var e))
        {
            return null;
        }

        return e.ValueKind switch
        {
            JsonValueKind.Number when e.TryGetInt64(out var n) => n,
            JsonValueKind.String when long.TryParse(e.GetString(), NumberStyles.None, CultureInfo.InvariantCulture, out var n) => n,
            _ => null,
        };
    }

    private static string? Text(JsonElement o, string name) =>
        o.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.String ? value.GetString() : null;

    private static bool TryLong(JsonElement o, string name, out long value)
    {
        value = 0;
        return o.TryGetProperty(name, out var element) && element.ValueKind == JsonValueKind.Number && element.TryGetInt64(out value) && value > 0;
    }

    /// <summary>Null when <paramref name="name"/> is a plain decimal string (the REST parser's rule), else the problem.</summary>
    private static string? Amount(JsonElement o, string name, out decimal value)
    {
        value = 0;
        if (!o.TryGetProperty(name, out var element))
        {
            return "missing field: " + name;
        }

        if (element.ValueKind != JsonValueKind.String)
        {
            return name + ": not a string";
        }

        var problem = StrictDecimal.TryParse(Encoding.UTF8.GetBytes(element.GetString()!), out value);
        return problem is null ? null : name + ": " + problem;
    }
}
