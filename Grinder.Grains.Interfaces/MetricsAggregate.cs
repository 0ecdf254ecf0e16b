namespace Grinder.Grains;

/// <summary>Cluster-wide sums of every account's newest snapshot, grouped by metric labels only (no account ids).</summary>
/// <param name="Fills">Keyed by <c>source|side|liquidity</c>.</param>
/// <param name="Polls">Keyed by source.</param>
/// <param name="Errors">Keyed by <c>source|reason</c>.</param>
/// <param name="CursorLoads">Keyed by <c>source|result</c>.</param>
/// <param name="CursorSaves">Keyed by <c>source|result</c>.</param>
/// <param name="StreamsConnected">Keyed by source: accounts whose user data stream is open.</param>
/// <param name="StreamsExpected">Keyed by source: accounts that run a user data stream.</param>
/// <param name="StreamEvents">Keyed by <c>source|result</c>.</param>
/// <param name="Recovered">Keyed by source: fills first found by the trailing re-scan.</param>
/// <param name="OldestLastSaveUnixMs">Per source, the oldest last-save time across polling accounts (the worst one drives cursor age).</param>
[GenerateSerializer, Immutable]
public sealed record MetricsAggregate(
    [property: Id(0)] IReadOnlyDictionary<string, FillTotals> Fills,
    [property: Id(1)] IReadOnlyDictionary<string, long> Polls,
    [property: Id(2)] IReadOnlyDictionary<string, long> Errors,
    [property: Id(3)] IReadOnlyDictionary<string, long> CursorLoads,
    [property: Id(4)] IReadOnlyDictionary<string, long> CursorSaves,
    [property: Id(5)] IReadOnlyDictionary<string, long> OldestLastSaveUnixMs,
    [property: Id(6)] long ReconcileRuns,
    [property: Id(7)] int Accounts,
    [property: Id(8)] IReadOnlyDictionary<string, long>? Recovered = null,
    [property: Id(9)] IReadOnlyDictionary<string, long>? StreamsConnected = null,
    [property: Id(10)] IReadOnlyDictionary<string, long>? StreamsExpected = null,
    [property: Id(11)] IReadOnlyDictionary<string, long>? StreamEvents = null,
    [property: Id(12)] IReadOnlyDictionary<string, long>? AmountMismatches = null);
