namespace Grinder.Grains;

/// <summary>
/// Durable cursor of one (account, symbol): where to read next, and the counted high-water mark that keeps re-read
/// trades from being counted twice (design.md §3). Trade ids are a sequence per symbol (Binance docs).
/// </summary>
/// <param name="LastTradeId">Highest trade id read (valid or quarantined); null while bootstrapping by time windows.</param>
/// <param name="LastTsMs">Time of that trade; the runbook's cursor key is the tuple (last_trade_id, last_ts_ms).</param>
/// <param name="BootstrapFromMs">While <paramref name="LastTradeId"/> is null: start of the next time window.</param>
/// <param name="ResumeInclusive">The last page read was full: the next read includes <paramref name="LastTradeId"/> again (self-trade pairs).</param>
/// <param name="CountedHighWaterId">Highest trade id counted; never moves back, not even on a cursor reset. -1 before the first.</param>
/// <param name="CountedSidesAtHighWater">Sides already counted at <paramref name="CountedHighWaterId"/> (1 = buy, 2 = sell): a self-trade has two rows with one id.</param>
[GenerateSerializer, Immutable]
public sealed record SymbolCursor(
    [property: Id(0)] long? LastTradeId,
    [property: Id(1)] long LastTsMs,
    [property: Id(2)] long? BootstrapFromMs,
    [property: Id(3)] bool ResumeInclusive,
    [property: Id(4)] long CountedHighWaterId,
    [property: Id(5)] int CountedSidesAtHighWater)
{
    /// <summary>The runbook's monotonic key (last_trade_id, last_ts_ms); -1 stands for "no trade read yet".</summary>
    [System.Text.Json.Serialization.JsonIgnore]
    public (long TradeId, long TsMs) Key => (LastTradeId ?? -1, LastTsMs);

    /// <summary>Whether <paramref name="other"/>'s key is lower than this one's (lexicographic tuple comparison, runbook).</summary>
    public bool IsAhead(SymbolCursor other) => Key.CompareTo(other.Key) > 0;

    public static SymbolCursor Fresh(long bootstrapFromMs) => new(null, 0, bootstrapFromMs, false, -1, 0);
}
