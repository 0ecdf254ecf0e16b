using Grinder.Grains.Binance;
using Grinder.Grains.Ledger;

namespace Grinder.Silo.Ledger;

/// <summary>
/// The rows of one batch as a store writes them: one per key (the first occurrence wins, as the first-seen values
/// always do), in key order. Key order is also the order in which concurrent writers lock the keys, so two appends
/// of overlapping rows wait for each other instead of deadlocking.
/// </summary>
public sealed class LedgerBatchPlan
{
    private LedgerBatchPlan(IReadOnlyList<ParsedTrade> trades, IReadOnlyList<FillKey> inBatchMismatches)
    {
        Trades = trades;
        InBatchMismatches = inBatchMismatches;
    }

    /// <summary>Distinct rows in (symbol ordinal, trade id, side) order.</summary>
    public IReadOnlyList<ParsedTrade> Trades { get; }

    /// <summary>Keys that occur again later in the batch with other amounts (the later copy is not recorded).</summary>
    public IReadOnlyList<FillKey> InBatchMismatches { get; }

    public static LedgerBatchPlan Create(IReadOnlyList<ParsedTrade> trades)
    {
        ArgumentNullException.ThrowIfNull(trades);
        var first = new Dictionary<FillKey, ParsedTrade>(trades.Count);
        var mismatches = new List<FillKey>();
        foreach (var trade in trades)
        {
            var key = KeyOf(trade);
            if (!first.TryAdd(key, trade) && !SameAmounts(first[key], trade) && !mismatches.Contains(key))
            {
                mismatches.Add(key);
            }
        }

        var ordered = first.Values.ToList();
        ordered.Sort((a, b) => CompareKeys(KeyOf(a), KeyOf(b)));
        return new LedgerBatchPlan(ordered, mismatches);
    }

    public static FillKey KeyOf(ParsedTrade trade) => new(trade.Symbol, trade.Id, trade.Side);

    /// <summary>Key order: symbol (ordinal), trade id, side (BUY before SELL).</summary>
    public static int CompareKeys(FillKey a, FillKey b)
    {
        var bySymbol = string.CompareOrdinal(a.Symbol, b.Symbol);
        if (bySymbol != 0)
        {
            return bySymbol;
        }

        var byId = a.TradeId.CompareTo(b.TradeId);
        return byId != 0 ? byId : a.Side.CompareTo(b.Side);
    }

    /// <summary>Whether two rows of one key carry the same amounts (decimal equality: 1.5 and 1.50 are the same amount).</summary>
    public static bool SameAmounts(ParsedTrade a, ParsedTrade b) =>
        a.Price == b.Price && a.Qty == b.Qty && a.QuoteQty == b.QuoteQty && a.RealizedPnl == b.RealizedPnl
        && a.Commission == b.Commission && string.Equals(a.CommissionAsset, b.CommissionAsset, StringComparison.Ordinal);
}
