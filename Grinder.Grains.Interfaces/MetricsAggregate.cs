namespace Grinder.Grains;

/// <summary>Cluster-wide sums of every account's newest snapshot, grouped by metric labels only (no account ids).</summary>
/// <param name="Fills">Fill totals per source and (side, liquidity) bucket.</param>
/// <param name="Polls">Completed polls per source.</param>
/// <param name="Errors">Errors per source and reason.</param>
/// <param name="CursorLoads">State loads per source and result.</param>
/// <param name="CursorSaves">State saves per source and result.</param>
/// <param name="OldestLastSaveUnixMs">Per source, the oldest last-save time across polling accounts (the worst one drives cursor age).</param>
/// <param name="ReconcileRuns">Completed account polls of all sources.</param>
/// <param name="Accounts">Accounts reported.</param>
/// <param name="Recovered">Per source: fills first found by the trailing re-scan.</param>
/// <param name="StreamsConnected">Per source: accounts whose user data stream is open.</param>
/// <param name="StreamsExpected">Per source: accounts that run a user data stream.</param>
/// <param name="StreamEvents">Stream events per source and result.</param>
/// <param name="AmountMismatches">Per source: fills read again with other amounts.</param>
[GenerateSerializer, Immutable]
public sealed record MetricsAggregate(
    // Ids 0 to 5 and 8 to 12 held these families keyed by label text joined with '|'; not to be reused.
    [property: Id(13)] IReadOnlyDictionary<FillSeries, FillTotals> Fills,
    [property: Id(14)] IReadOnlyDictionary<FillSource, long> Polls,
    [property: Id(15)] IReadOnlyDictionary<SourceSeries<ErrorReason>, long> Errors,
    [property: Id(16)] IReadOnlyDictionary<SourceSeries<CursorResult>, long> CursorLoads,
    [property: Id(17)] IReadOnlyDictionary<SourceSeries<CursorResult>, long> CursorSaves,
    [property: Id(18)] IReadOnlyDictionary<FillSource, long> OldestLastSaveUnixMs,
    [property: Id(6)] long ReconcileRuns,
    [property: Id(7)] int Accounts,
    [property: Id(19)] IReadOnlyDictionary<FillSource, long> Recovered,
    [property: Id(20)] IReadOnlyDictionary<FillSource, long> StreamsConnected,
    [property: Id(21)] IReadOnlyDictionary<FillSource, long> StreamsExpected,
    [property: Id(22)] IReadOnlyDictionary<SourceSeries<StreamEventResult>, long> StreamEvents,
    [property: Id(23)] IReadOnlyDictionary<FillSource, long> AmountMismatches);
