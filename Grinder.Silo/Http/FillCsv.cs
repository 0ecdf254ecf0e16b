using System.Globalization;
using System.Text;
using Grinder.Grains.Binance;
using Grinder.Grains.Ledger;
using Grinder.Silo.Ledger;

namespace Grinder.Silo.Http;

/// <summary>
/// CSV of ledger rows (RFC 4180: comma separated, CRLF line ends, a field with a comma, quote or line break quoted),
/// with the column names of the JSON form. Amounts are written exactly as stored.
/// </summary>
public static class FillCsv
{
    public const string ContentType = "text/csv; charset=utf-8; header=present";

    public const string Header =
        "id,orderId,symbol,side,price,qty,quoteQty,realizedPnl,commission,commissionAsset,time,buyer,maker,positionSide,account,source,firstSeen,firstSeenBy,preLedger";

    /// <summary>Appends one row (with its line end) to <paramref name="line"/>.</summary>
    public static void AppendRow(StringBuilder line, LedgerRow row)
    {
        var trade = row.Trade;
        line.Append(trade.Id.ToString(CultureInfo.InvariantCulture)).Append(',')
            .Append(trade.OrderId.ToString(CultureInfo.InvariantCulture)).Append(',');
        Field(line, trade.Symbol).Append(',')
            .Append(LedgerCodes.Side(trade.Side)).Append(',')
            .Append(Amount(trade.Price)).Append(',')
            .Append(Amount(trade.Qty)).Append(',')
            .Append(Amount(trade.QuoteQty)).Append(',')
            .Append(Amount(trade.RealizedPnl)).Append(',')
            .Append(Amount(trade.Commission)).Append(',');
        Field(line, trade.CommissionAsset).Append(',')
            .Append(trade.TimeMs.ToString(CultureInfo.InvariantCulture)).Append(',')
            .Append(trade.Side == FillSide.Buy ? "true" : "false").Append(',')
            .Append(trade.Liquidity == FillLiquidity.Maker ? "true" : "false").Append(',');
        Field(line, trade.PositionSide).Append(',');
        Field(line, row.Account).Append(',');
        Field(line, row.Source).Append(',')
            .Append(row.FirstSeenMs.ToString(CultureInfo.InvariantCulture)).Append(',')
            .Append(LedgerCodes.Feeder(row.FirstSeenBy)).Append(',')
            .Append(row.PreLedger ? "true" : "false").Append("\r\n");
    }

    public static string Amount(decimal value) => value.ToString(CultureInfo.InvariantCulture);

    private static StringBuilder Field(StringBuilder line, string value)
    {
        if (value.AsSpan().IndexOfAny(",\"\r\n") < 0)
        {
            return line.Append(value);
        }

        return line.Append('"').Append(value.Replace("\"", "\"\"", StringComparison.Ordinal)).Append('"');
    }
}
