using System.Globalization;
using System.Text.Json;

namespace Grinder.FakeBinance;

/// <summary>Writes userTrades pages in Binance's wire format.</summary>
/// <remarks>USD-M "Account Trade List" response: price, qty, realizedPnl, quoteQty and commission are JSON strings;
/// id, orderId and time are JSON numbers; buyer and maker are booleans.</remarks>
internal static class RowJson
{
    /// <summary>A JSON array of the rows; raw rows are written verbatim. With <paramref name="drift"/> valid rows get a drifted schema.</summary>
    public static byte[] Page(IReadOnlyList<StoredRow> rows, bool drift = false)
    {
        using var buffer = new MemoryStream();
        using (var writer = new Utf8JsonWriter(buffer, new JsonWriterOptions { SkipValidation = true }))
        {
            writer.WriteStartArray();
            foreach (var row in rows)
            {
                if (row.Trade is { } trade)
                {
                    Write(writer, trade, drift);
                }
                else
                {
                    writer.WriteRawValue(row.Raw!, skipInputValidation: true);
                }
            }

            writer.WriteEndArray();
        }

        return buffer.ToArray();
    }

    /// <summary>The rows wrapped in an object: valid JSON, but not the array a client expects.</summary>
    public static byte[] WrappedInObject(IReadOnlyList<StoredRow> rows)
    {
        var page = Page(rows);
        using var buffer = new MemoryStream();
        buffer.Write("{\"total\":"u8);
        buffer.Write(System.Text.Encoding.UTF8.GetBytes(rows.Count.ToString(CultureInfo.InvariantCulture)));
        buffer.Write(",\"rows\":"u8);
        buffer.Write(page);
        buffer.Write("}"u8);
        return buffer.ToArray();
    }

    /// <summary>A row shaped like a real one (readable id and time) that fails validation as <paramref name="corruption"/> says.</summary>
    public static string CorruptRow(string symbol, long id, long timeMs, FakeCorruption corruption)
    {
        using var buffer = new MemoryStream();
        using (var writer = new Utf8JsonWriter(buffer))
        {
            writer.WriteStartObject();
            writer.WriteString("symbol", symbol);
            writer.WriteNumber("id", id);
            writer.WriteNumber("orderId", id);
            writer.WriteString("side", "BUY");
            if (corruption != FakeCorruption.MissingPrice)
            {
                writer.WriteString("price", "100");
            }

            writer.WriteString("qty", corruption == FakeCorruption.NegativeQty ? "-1" : "1");
            writer.WriteString("realizedPnl", "0");
            writer.WriteString("quoteQty", "100");
            writer.WriteString("commission", corruption == FakeCorruption.NaNCommission ? "NaN" : "0.05");
            writer.WriteString("commissionAsset", "USDT");
            writer.WriteNumber("time", timeMs);
            writer.WriteString("positionSide", "BOTH");
            writer.WriteBoolean("buyer", true);
            writer.WriteBoolean("maker", false);
            writer.WriteEndObject();
        }

        return System.Text.Encoding.UTF8.GetString(buffer.ToArray());
    }

    private static void Write(Utf8JsonWriter writer, FakeTrade trade, bool drift)
    {
        writer.WriteStartObject();
        writer.WriteString("symbol", trade.Symbol);
        writer.WriteNumber("id", trade.Id);
        writer.WriteNumber("orderId", trade.OrderId);
        writer.WriteString("side", trade.Side);
        if (drift)
        {
            writer.WriteNumber("price", trade.Price);
            writer.WriteNumber("qty", trade.Qty);
        }
        else
        {
            writer.WriteString("price", Text(trade.Price));
            writer.WriteString("qty", Text(trade.Qty));
        }

        writer.WriteString("realizedPnl", Text(trade.RealizedPnl));
        writer.WriteString("quoteQty", Text(trade.QuoteQty));
        writer.WriteString("commission", Text(trade.Commission));
        writer.WriteString("commissionAsset", trade.CommissionAsset);
        writer.WriteNumber("time", trade.TimeMs);
        writer.WriteString("positionSide", trade.PositionSide);
        writer.WriteBoolean("buyer", trade.Buyer);
        writer.WriteBoolean(drift ? "isMaker" : "maker", trade.Maker);
        writer.WriteEndObject();
    }

    private static string Text(decimal value) => value.ToString(CultureInfo.InvariantCulture);
}
