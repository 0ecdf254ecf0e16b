using System.Globalization;
using System.Text.Json;

namespace Grinder.FakeBinance;

/// <summary>User data stream payloads in Binance USD-M's wire format.</summary>
/// <remarks>"Event: Order Update" (ORDER_TRADE_UPDATE): amounts are JSON strings, ids and times JSON numbers; <c>n</c>/<c>N</c>
/// (commission and its asset) are absent when there is no commission. "Event: User Data Stream Expired": <c>E</c> arrives as
/// a string there. Combined connections wrap each payload as <c>{"stream":"&lt;listenKey&gt;","data":{...}}</c>.</remarks>
internal static class StreamEvents
{
    public static byte[] OrderTradeUpdate(FakeTrade trade, long eventTimeMs)
    {
        using var buffer = new MemoryStream();
        using (var w = new Utf8JsonWriter(buffer))
        {
            var qty = Text(trade.Qty);
            var price = Text(trade.Price);
            var orderType = trade.Maker ? "LIMIT" : "MARKET";
            w.WriteStartObject();
            w.WriteString("e", "ORDER_TRADE_UPDATE");
            w.WriteNumber("E", eventTimeMs);
            w.WriteNumber("T", trade.TimeMs);
            w.WriteStartObject("o");
            w.WriteString("s", trade.Symbol);
            w.WriteString("c", "fake-" + trade.OrderId.ToString(CultureInfo.InvariantCulture));
            w.WriteString("S", trade.Side);
            w.WriteString("o", orderType);
            w.WriteString("f", trade.Maker ? "GTC" : "IOC");
            w.WriteString("q", qty);
            w.WriteString("p", trade.Maker ? price : "0");
            w.WriteString("ap", price);
            w.WriteString("sp", "0");
            w.WriteString("x", "TRADE");

            // Generated orders fill with one trade each, so every trade completes its order.
            w.WriteString("X", "FILLED");
            w.WriteNumber("i", trade.OrderId);
            w.WriteString("l", qty);
            w.WriteString("z", qty);
            w.WriteString("L", price);
            if (trade.Commission != 0)
            {
                w.WriteString("N", trade.CommissionAsset);
                w.WriteString("n", Text(trade.Commission));
            }

            w.WriteNumber("T", trade.TimeMs);
            w.WriteNumber("t", trade.Id);
            w.WriteString("b", "0");
            w.WriteString("a", "0");
            w.WriteBoolean("m", trade.Maker);
            w.WriteBoolean("R", false);
            w.WriteString("wt", "CONTRACT_PRICE");
            w.WriteString("ot", orderType);
            w.WriteString("ps", trade.PositionSide);
            w.WriteBoolean("cp", false);
            w.WriteString("rp", Text(trade.RealizedPnl));
            w.WriteBoolean("pP", false);
            w.WriteNumber("si", 0);
            w.WriteNumber("ss", 0);
            w.WriteString("V", "EXPIRE_TAKER");
            w.WriteString("pm", "NONE");
            w.WriteNumber("gtd", 0);
            w.WriteEndObject();
            w.WriteEndObject();
        }

        return buffer.ToArray();
    }

    public static byte[] ListenKeyExpired(string listenKey, long eventTimeMs)
    {
        using var buffer = new MemoryStream();
        using (var w = new Utf8JsonWriter(buffer))
        {
            w.WriteStartObject();
            w.WriteString("e", "listenKeyExpired");
            w.WriteString("E", eventTimeMs.ToString(CultureInfo.InvariantCulture));
            w.WriteString("listenKey", listenKey);
            w.WriteEndObject();
        }

        return buffer.ToArray();
    }

    /// <summary>The combined-stream envelope around an already serialised payload.</summary>
    public static byte[] Wrap(string listenKey, byte[] data)
    {
        using var buffer = new MemoryStream(data.Length + listenKey.Length + 24);
        using (var w = new Utf8JsonWriter(buffer))
        {
            w.WriteStartObject();
            w.WriteString("stream", listenKey);
            w.WritePropertyName("data");
            w.WriteRawValue(data, skipInputValidation: true);
            w.WriteEndObject();
        }

        return buffer.ToArray();
    }

    private static string Text(decimal value) => value.ToString(CultureInfo.InvariantCulture);
}
