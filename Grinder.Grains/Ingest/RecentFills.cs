using Grinder.Grains.Binance;
using Grinder.Grains.Ledger;

namespace Grinder.Grains.Ingest;

/// <summary>
/// Keys of fills this activation already has in the ledger, with their amounts, for the last re-scan window: re-read rows
/// (the inclusive page resume, the re-scan, REST reconciling what the stream brought) are dropped before they reach the
/// ledger, so a quiet poll or re-scan costs no database round trip. A row whose amounts differ from the ones seen goes to
/// the ledger, which keeps the first values and reports the mismatch. Not stored: after an activation the ledger's key
/// catches what this set no longer knows.
/// </summary>
public sealed class RecentFills(TimeSpan horizon)
{
    private readonly Dictionary<FillKey, (long TimeMs, int Amounts)> _seen = [];
    private long _nextPruneMs;

    /// <summary>Fills not known to be in the ledger.</summary>
    public List<ParsedTrade> Unseen(IEnumerable<ParsedTrade> trades)
    {
        var result = new List<ParsedTrade>();
        var batch = new HashSet<FillKey>();
        foreach (var trade in trades)
        {
            var key = new FillKey(trade.Symbol, trade.Id, trade.Side);
            if ((!_seen.TryGetValue(key, out var known) || known.Amounts != AmountsOf(trade)) && batch.Add(key))
            {
                result.Add(trade);
            }
        }

        return result;
    }

    /// <summary>Records fills that are in the ledger now; forgets those older than the horizon.</summary>
    public void Remember(IEnumerable<ParsedTrade> trades, long nowMs)
    {
        foreach (var trade in trades)
        {
            _seen[new FillKey(trade.Symbol, trade.Id, trade.Side)] = (trade.TimeMs, AmountsOf(trade));
        }

        // Pruned a few times per horizon, not on every call: the set may hold many thousand keys of a busy account.
        var oldest = nowMs - (long)horizon.TotalMilliseconds;
        if (nowMs >= _nextPruneMs)
        {
            _nextPruneMs = nowMs + Math.Max(1, (long)horizon.TotalMilliseconds / 4);
            foreach (var key in _seen.Where(pair => pair.Value.TimeMs < oldest).Select(pair => pair.Key).ToList())
            {
                _seen.Remove(key);
            }
        }
    }

    public int Count => _seen.Count;

    // The amounts the ledger compares; decimal's hash ignores trailing zeros, as its equality does.
    private static int AmountsOf(ParsedTrade trade) =>
        HashCode.Combine(trade.Price, trade.Qty, trade.QuoteQty, trade.RealizedPnl, trade.Commission, trade.CommissionAsset);
}
