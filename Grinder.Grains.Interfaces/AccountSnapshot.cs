namespace Grinder.Grains;

/// <summary>
/// Absolute counters of one account as of one saved grain state, reported to <see cref="IFillMetricsGrain"/>.
/// Versions only grow; an older version than the one held is ignored, so a late report never takes a counter back.
/// </summary>
/// <param name="AccountId">Account id: used inside the metrics grain only, never exported as a label.</param>
/// <param name="Source">Metric label <c>source</c>: <c>reconcile</c> (real exchange) or <c>sim</c> (demo / paper trading).</param>
/// <param name="Fills">Keyed by <c>side|liquidity</c>, e.g. <c>buy|taker</c>.</param>
/// <param name="Errors">Keyed by reason (<c>http</c>, <c>parse</c>, <c>cursor</c>, <c>unknown</c>).</param>
/// <param name="CursorLoads">Keyed by result (<c>ok</c>, <c>error</c>).</param>
/// <param name="CursorSaves">Keyed by result (<c>ok</c>, <c>error</c>, <c>rejected_non_monotonic</c>).</param>
/// <param name="LastSaveUnixMs">Last successful state save; null before the first.</param>
/// <param name="StreamConnected">The account's user data stream is open now.</param>
/// <param name="StreamExpected">The account runs a user data stream (ingest and stream on).</param>
/// <param name="StreamEvents">Stream events by result: <c>recorded</c>, <c>duplicate</c>, <c>rejected</c>, <c>mismatch</c>.</param>
/// <param name="Recovered">Counted fills first found by the trailing re-scan (from the ledger).</param>
[GenerateSerializer, Immutable]
public sealed record AccountSnapshot(
    [property: Id(0)] string AccountId,
    [property: Id(1)] string Source,
    [property: Id(2)] long Version,
    [property: Id(3)] IReadOnlyDictionary<string, FillTotals> Fills,
    [property: Id(4)] long Polls,
    [property: Id(5)] IReadOnlyDictionary<string, long> Errors,
    [property: Id(6)] IReadOnlyDictionary<string, long> CursorLoads,
    [property: Id(7)] IReadOnlyDictionary<string, long> CursorSaves,
    [property: Id(8)] long? LastSaveUnixMs,
    // Id(9) held a count of completed polls, always equal to Polls; not to be reused.
    [property: Id(10)] bool Polling,
    [property: Id(11)] long Recovered = 0,
    [property: Id(12)] bool StreamConnected = false,
    [property: Id(13)] bool StreamExpected = false,
    [property: Id(14)] IReadOnlyDictionary<string, long>? StreamEvents = null,
    [property: Id(15)] long AmountMismatches = 0);
