namespace Grinder.Grains;

/// <summary>
/// Read position of one (account, symbol): where to read next. Trade ids are a sequence per symbol (Binance docs). It
/// decides nothing about counting: the fill ledger's key does that, so a position that is behind only costs re-reads.
/// It must never be ahead of a trade that exists, and the trailing re-scan finds what it passed anyway.
/// </summary>
/// <param name="LastTradeId">Highest trusted trade id read; null while bootstrapping by time windows.</param>
/// <param name="LastTsMs">Time of that trade; the runbook's cursor key is the tuple (last_trade_id, last_ts_ms).</param>
/// <param name="BootstrapFromMs">While <paramref name="LastTradeId"/> is null: start of the next time window.</param>
/// <param name="ResumeInclusive">The last page read was full: the next read includes <paramref name="LastTradeId"/> again (self-trade pairs).</param>
/// <param name="CountedHighWaterId">Written by the version before the ledger (its counted high-water mark); read once when such a
/// state is upgraded, -1 afterwards.</param>
/// <param name="CountedSidesAtHighWater">Likewise: sides counted at that mark (1 = buy, 2 = sell).</param>
/// <param name="LastMovedAtMs">Wall-clock time the position last moved forward: a late trade below it can only exist while this
/// lies within the re-scan window, so quiet symbols are never re-scanned.</param>
/// <param name="LastRescanMs">Wall-clock time of the last completed re-scan of this symbol.</param>
/// <param name="ReadHighWaterId">Highest trade id this service itself moved the position to; a stored <paramref name="LastTradeId"/>
/// above it was not written by the service (a hand edit).</param>
[GenerateSerializer, Immutable]
public sealed record SymbolCursor(
    [property: Id(0)] long? LastTradeId,
    [property: Id(1)] long LastTsMs,
    [property: Id(2)] long? BootstrapFromMs,
    [property: Id(3)] bool ResumeInclusive,
    [property: Id(4)] long CountedHighWaterId = -1,
    [property: Id(5)] int CountedSidesAtHighWater = 0,
    [property: Id(6)] long? LastMovedAtMs = null,
    [property: Id(7)] long? LastRescanMs = null,
    [property: Id(8)] long ReadHighWaterId = -1)
{
    /// <summary>The runbook's monotonic key (last_trade_id, last_ts_ms); -1 stands for "no trade read yet".</summary>
    [System.Text.Json.Serialization.JsonIgnore]
    public (long TradeId, long TsMs) Key => (LastTradeId ?? -1, LastTsMs);

    /// <summary>Whether <paramref name="other"/>'s key is lower than this one's (lexicographic tuple comparison, runbook).</summary>
    public bool IsAhead(SymbolCursor other) => Key.CompareTo(other.Key) > 0;

    /// <summary>Whether the service wrote this position: it never moves past the highest id it read itself.</summary>
    [System.Text.Json.Serialization.JsonIgnore]
    public bool IsOwnPosition => LastTradeId is not { } last || last <= Math.Max(ReadHighWaterId, CountedHighWaterId);

    public static SymbolCursor Fresh(long bootstrapFromMs) => new(null, 0, bootstrapFromMs, false);
}
