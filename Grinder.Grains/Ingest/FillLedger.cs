using Grinder.Grains.Binance;

namespace Grinder.Grains.Ingest;

/// <summary>What one symbol's fetch changed in the state.</summary>
public sealed record LedgerOutcome(int Counted, int Duplicates, int Quarantined);

/// <summary>
/// The exactly-once rule, free of I/O: applies one symbol's fetch to an account state in memory. Rows are taken in
/// (id, side) order; a row counts only if it is above the symbol's counted high-water mark, or at the mark with a side
/// not yet counted there (a self-trade has a BUY and a SELL row with one id: Binance docs). The caller saves cursor and
/// counters together.
/// </summary>
public static class FillLedger
{
    private const int BuyBit = 1;
    private const int SellBit = 2;

    public static LedgerOutcome Apply(FillIngestState state, string symbol, SymbolCursor cursor, FetchResult result, int quarantineLimit, long nowMs)
    {
        var highWater = cursor.CountedHighWaterId;
        var sides = cursor.CountedSidesAtHighWater;
        int counted = 0, duplicates = 0;

        foreach (var trade in result.Trades.OrderBy(trade => trade.Id).ThenBy(trade => trade.Side))
        {
            var bit = trade.Side == FillSide.Buy ? BuyBit : SellBit;
            if (trade.Id < highWater || (trade.Id == highWater && (sides & bit) != 0))
            {
                duplicates++;
                continue;
            }

            if (trade.Id > highWater)
            {
                highWater = trade.Id;
                sides = 0;
            }

            sides |= bit;
            Count(state, trade);
            counted++;
        }

        foreach (var row in result.Rejected)
        {
            state.QuarantinedTotal++;
            state.Quarantine.Add(new QuarantinedRow(row.Symbol, row.TradeId, row.Reason, row.Raw, nowMs));
        }

        if (state.Quarantine.Count > quarantineLimit)
        {
            state.Quarantine.RemoveRange(0, state.Quarantine.Count - quarantineLimit);
        }

        var next = result.Next;
        state.Symbols[symbol] = cursor with
        {
            LastTradeId = next.LastTradeId,
            LastTsMs = next.LastTimeMs,
            BootstrapFromMs = next.BootstrapFromMs,
            ResumeInclusive = next.ResumeInclusive,
            CountedHighWaterId = highWater,
            CountedSidesAtHighWater = sides,
        };
        return new LedgerOutcome(counted, duplicates, result.Rejected.Count);
    }

    private static void Count(FillIngestState state, ParsedTrade trade)
    {
        var bucket = (trade.Side == FillSide.Buy ? "buy" : "sell") + "|" + (trade.Liquidity == FillLiquidity.Maker ? "maker" : "taker");
        var fee = trade.Commission > 0 ? trade.Commission : 0m;
        var rebate = trade.Commission < 0 ? -trade.Commission : 0m;
        var current = state.Fills.GetValueOrDefault(bucket, FillTotals.Zero);
        state.Fills[bucket] = current.Add(new FillTotals(1, trade.Notional, fee, rebate));
        if (fee > 0)
        {
            state.FeesByAsset[trade.CommissionAsset] = state.FeesByAsset.GetValueOrDefault(trade.CommissionAsset) + fee;
        }

        if (rebate > 0)
        {
            state.RebatesByAsset[trade.CommissionAsset] = state.RebatesByAsset.GetValueOrDefault(trade.CommissionAsset) + rebate;
        }
    }
}
