using System.Globalization;
using Grinder.Grains.Binance;
using Grinder.Grains.Ledger;

namespace Grinder.Tests.Ledger;

/// <summary>Rows as the parser hands them to the ledger, written with Binance's decimal strings.</summary>
public static class LedgerTrades
{
    /// <summary>2026-11-25T00:00:00Z in epoch ms: trade times of the tests are offsets from it.</summary>
    public const long T0 = 1_764_028_800_000;

    public static ParsedTrade Trade(
        string symbol,
        long id,
        FillSide side = FillSide.Buy,
        string price = "100.5",
        string qty = "0.002",
        string commission = "0.01",
        string asset = "USDT",
        FillLiquidity liquidity = FillLiquidity.Taker,
        long timeOffsetMs = 0,
        string realizedPnl = "0",
        long? orderId = null,
        string positionSide = "BOTH") =>
        new(symbol, id, orderId ?? id * 10, side, liquidity, D(price), D(qty), D(price) * D(qty), D(realizedPnl), D(commission), asset,
            T0 + timeOffsetMs, positionSide);

    public static LedgerBatch Batch(string account, FillFeeder feeder, params ParsedTrade[] trades) =>
        new(account, "reconcile", feeder, T0 + 3_600_000, trades);

    public static decimal D(string text) => decimal.Parse(text, NumberStyles.Float, CultureInfo.InvariantCulture);

    public static FillKey Key(ParsedTrade trade) => new(trade.Symbol, trade.Id, trade.Side);

    public static async Task<List<LedgerRow>> AllAsync(this IFillLedger ledger, FillQuery query)
    {
        var rows = new List<LedgerRow>();
        await foreach (var row in ledger.QueryAsync(query, CancellationToken.None))
        {
            rows.Add(row);
        }

        return rows;
    }

    public static Task<List<LedgerRow>> AllAsync(this IFillLedger ledger, string account) =>
        ledger.AllAsync(new FillQuery(account, null, null, null, null, null));
}
