using Grinder.Grains.Binance;
using Grinder.Grains.Ledger;
using Grinder.Grains.Metrics;

namespace Grinder.Grains.Ingest;

/// <summary>A re-scan window of one symbol, both ends inclusive.</summary>
public sealed record RescanWindow(long StartMs, long EndMs);

/// <summary>A symbol whose stored position is ahead of the one written: kept, counted <c>rejected_non_monotonic</c>.</summary>
public sealed record MonotonicRejection(string Symbol, (long TradeId, long TsMs) ExistingKey, (long TradeId, long TsMs) NewKey);

/// <summary>
/// The rules for read positions, free of I/O (the grain only does the reading and writing): how a fetch moves a
/// position, when a symbol is re-scanned, the runbook's monotonic rule, and how a state of the version before the fill
/// ledger is carried into it.
/// </summary>
public static class ReadPositions
{
    /// <summary>
    /// The position after <paramref name="result"/>. The fetcher only moves it to trusted ids (valid rows of the symbol, or
    /// rejected rows a later valid row confirms), so it never passes a trade that exists. It only moves forward here, and
    /// only the fetch position: a failed fetch keeps what the pages before the failure read.
    /// </summary>
    public static SymbolCursor Advance(SymbolCursor cursor, FetchResult result, long nowMs)
    {
        ArgumentNullException.ThrowIfNull(cursor);
        ArgumentNullException.ThrowIfNull(result);
        var next = result.Next;
        var moved = next.LastTradeId is { } id && (cursor.LastTradeId is not { } last || id > last);
        return cursor with
        {
            LastTradeId = next.LastTradeId,
            LastTsMs = next.LastTimeMs,
            BootstrapFromMs = next.BootstrapFromMs,
            ResumeInclusive = next.ResumeInclusive,
            LastMovedAtMs = moved ? nowMs : cursor.LastMovedAtMs,
            ReadHighWaterId = Math.Max(cursor.ReadHighWaterId, next.LastTradeId ?? -1),
        };
    }

    /// <summary>
    /// The window to re-scan now, or null. A trade that becomes visible late below the read position can only exist in a
    /// symbol whose position moved after the trade executed; so a symbol is re-scanned every <paramref name="interval"/>
    /// only while its position moved within the last <paramref name="window"/>, over that window. Quiet symbols cost nothing.
    /// </summary>
    public static RescanWindow? RescanDue(SymbolCursor cursor, long nowMs, TimeSpan interval, TimeSpan window)
    {
        ArgumentNullException.ThrowIfNull(cursor);
        var windowMs = (long)window.TotalMilliseconds;
        if (cursor.LastMovedAtMs is not { } moved || nowMs - moved > windowMs)
        {
            return null;
        }

        if (cursor.LastRescanMs is { } last && nowMs - last < (long)interval.TotalMilliseconds)
        {
            return null;
        }

        return new RescanWindow(nowMs - windowMs, nowMs);
    }

    /// <summary>
    /// The window of a reconciliation read that is also the symbol's re-scan, or null when an id read must be used. Trade ids
    /// grow with execution time per symbol (Binance), so every trade above the position executed at or after the position's
    /// time; and a trade that became visible late below it executed at most <paramref name="rescanWindow"/> before the read
    /// that passed it (<paramref name="previousReadMs"/>, or now when unknown). One startTime..endTime read from the earlier
    /// of the two covers what an id read would find and what a re-scan looks for, for the weight of one read. A window spans
    /// at most <paramref name="maxSpan"/> (7 days: Binance docs); a position older than that, or none yet, is read by id.
    /// </summary>
    public static RescanWindow? ReconcileWindow(SymbolCursor cursor, long nowMs, long previousReadMs, TimeSpan rescanWindow, TimeSpan maxSpan)
    {
        ArgumentNullException.ThrowIfNull(cursor);
        if (cursor.LastTradeId is null)
        {
            return null;
        }

        var start = Math.Min(cursor.LastTsMs, Math.Min(previousReadMs, nowMs) - (long)rescanWindow.TotalMilliseconds);
        return nowMs - start < (long)maxSpan.TotalMilliseconds ? new RescanWindow(start, nowMs) : null;
    }

    /// <summary>
    /// The position after a reconciliation window read (<see cref="ReconcileWindow"/>): the highest valid row above it, never
    /// a rejected row's id (it may be corrupt). A first page that came back full (<paramref name="pageLimit"/> rows) means the
    /// window may hold more: the next read goes on by id, inclusively, from the highest row read (rows not read executed later,
    /// so their ids are not lower).
    /// </summary>
    public static SymbolCursor AdvanceByWindow(SymbolCursor cursor, FetchResult window, int pageLimit, long nowMs)
    {
        ArgumentNullException.ThrowIfNull(cursor);
        ArgumentNullException.ThrowIfNull(window);
        var last = cursor.LastTradeId ?? long.MinValue;
        ParsedTrade? top = null;
        foreach (var trade in window.Trades)
        {
            if (trade.Id > last && (top is null || trade.Id > top.Id))
            {
                top = trade;
            }
        }

        var full = window.Trades.Count + window.Rejected.Count >= pageLimit;
        return top is null
            ? cursor with { ResumeInclusive = cursor.ResumeInclusive || full }
            : cursor with
            {
                LastTradeId = top.Id,
                LastTsMs = top.TimeMs,
                ResumeInclusive = full,
                LastMovedAtMs = nowMs,
                ReadHighWaterId = Math.Max(cursor.ReadHighWaterId, top.Id),
            };
    }

    /// <summary>The rows above <paramref name="cursor"/>'s position: a read's own, the complement of <see cref="PassedBy"/>.</summary>
    public static IEnumerable<ParsedTrade> Above(SymbolCursor cursor, IEnumerable<ParsedTrade> trades)
    {
        ArgumentNullException.ThrowIfNull(cursor);
        return cursor.LastTradeId is { } last ? trades.Where(trade => trade.Id > last) : trades;
    }

    /// <summary>The rows of a re-scan at or below <paramref name="cursor"/>'s position: the only ones the primary read can have missed.</summary>
    public static IEnumerable<ParsedTrade> PassedBy(SymbolCursor cursor, IEnumerable<ParsedTrade> trades)
    {
        ArgumentNullException.ThrowIfNull(cursor);
        return cursor.LastTradeId is { } last ? trades.Where(trade => trade.Id <= last) : [];
    }

    /// <summary>
    /// Runbook monotonic rule per symbol: a key (last_trade_id, last_ts_ms) below the stored one is not written; the stored
    /// position stays in <paramref name="candidate"/>. Symbols in <paramref name="exempt"/> (an operator reset, the upgrade's
    /// re-read) may go back.
    /// </summary>
    public static IReadOnlyList<MonotonicRejection> ApplyMonotonicRule(FillIngestState candidate, FillIngestState stored, IReadOnlySet<string> exempt)
    {
        ArgumentNullException.ThrowIfNull(candidate);
        ArgumentNullException.ThrowIfNull(stored);
        List<MonotonicRejection>? rejected = null;
        foreach (var (symbol, existing) in stored.Symbols)
        {
            if (exempt.Contains(symbol) || !candidate.Symbols.TryGetValue(symbol, out var proposed) || !existing.IsAhead(proposed))
            {
                continue;
            }

            (rejected ??= []).Add(new MonotonicRejection(symbol, existing.Key, proposed.Key));
            candidate.Symbols[symbol] = existing;
        }

        return (IReadOnlyList<MonotonicRejection>?)rejected ?? [];
    }

    /// <summary>
    /// After a write conflict: where to read next per symbol, given the state now stored. A stored position written by
    /// another activation of this account (a failover overlap) is adopted when it is ahead; one the service did not write
    /// (moved by hand) is not followed: we keep reading from <paramref name="ours"/> (the monotonic rule then keeps the
    /// stored one and counts the rejection). Returns the symbols whose hand-moved position was refused.
    /// </summary>
    public static IReadOnlyList<string> Reconcile(FillIngestState adopted, IReadOnlyDictionary<string, SymbolCursor> ours)
    {
        ArgumentNullException.ThrowIfNull(adopted);
        ArgumentNullException.ThrowIfNull(ours);
        List<string>? handMoved = null;
        foreach (var (symbol, mine) in ours)
        {
            if (!adopted.Symbols.TryGetValue(symbol, out var existing) || !existing.IsAhead(mine))
            {
                // Not stored, or stored behind ours: ours is written next (the ledger makes re-reads harmless either way).
                adopted.Symbols[symbol] = existing is null ? mine : mine with { ReadHighWaterId = Math.Max(mine.ReadHighWaterId, existing.ReadHighWaterId) };
                continue;
            }

            if (!existing.IsOwnPosition)
            {
                (handMoved ??= []).Add(symbol);
                adopted.Symbols[symbol] = mine;
            }
        }

        return (IReadOnlyList<string>?)handMoved ?? [];
    }

    /// <summary>Whether <paramref name="state"/> was written by the version before the fill ledger and still holds its counters.</summary>
    public static bool IsPreLedger(FillIngestState state) => state.LedgerFormat == 0;

    /// <summary>The counters and counted marks of a pre-ledger state, for <see cref="IFillLedger.ImportLegacyAsync"/>.</summary>
    public static LegacyImport LegacyImportOf(FillIngestState state, string account, string source)
    {
        ArgumentNullException.ThrowIfNull(state);
        var buckets = new Dictionary<TotalsBucket, FillTotals>();
        foreach (var (key, totals) in state.Fills)
        {
            // The previous version keyed its totals by the bucket's stored form, e.g. "buy|taker"; anything else is skipped.
            if (!FillBucket.TryParse(key, out var read) || totals.Count == 0)
            {
                continue;
            }

            var bucket = new TotalsBucket(source, read.Side, read.Liquidity);
            buckets[bucket] = buckets.GetValueOrDefault(bucket, FillTotals.Zero).Add(totals);
        }

        var assets = new Dictionary<string, AssetTotals>(StringComparer.Ordinal);
        foreach (var (asset, fees) in state.FeesByAsset)
        {
            assets[asset] = assets.GetValueOrDefault(asset, AssetTotals.Zero) with { Fees = fees };
        }

        foreach (var (asset, rebates) in state.RebatesByAsset)
        {
            assets[asset] = assets.GetValueOrDefault(asset, AssetTotals.Zero) with { Rebates = rebates };
        }

        var marks = state.Symbols
            .Where(pair => pair.Value.CountedHighWaterId >= 0)
            .Select(pair => new LegacyMark(
                pair.Key,
                pair.Value.CountedHighWaterId,
                (pair.Value.CountedSidesAtHighWater & 1) != 0,
                (pair.Value.CountedSidesAtHighWater & 2) != 0))
            .ToList();
        return new LegacyImport(account, source, buckets, assets, marks);
    }

    /// <summary>
    /// The state after its counters went into the ledger: counters cleared, and every symbol set to read its history again
    /// from <paramref name="rereadFromMs"/>, so the ledger lists the fills the previous version had only counted (they are
    /// recorded as pre-ledger rows and not counted again).
    /// </summary>
    public static void CompleteLegacyImport(FillIngestState state, long rereadFromMs)
    {
        ArgumentNullException.ThrowIfNull(state);
        state.Fills.Clear();
        state.FeesByAsset.Clear();
        state.RebatesByAsset.Clear();
        foreach (var symbol in state.Symbols.Keys.ToList())
        {
            var cursor = state.Symbols[symbol];
            var readHigh = Math.Max(cursor.ReadHighWaterId, Math.Max(cursor.CountedHighWaterId, cursor.LastTradeId ?? -1));
            state.Symbols[symbol] = SymbolCursor.Fresh(rereadFromMs) with { ReadHighWaterId = readHigh };
        }

        state.LedgerFormat = 1;
    }
}
