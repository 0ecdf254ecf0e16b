namespace Grinder.Grains;

/// <summary>
/// What one account has counted, reported to <see cref="IFillMetricsGrain"/>. Each counter is booked in exactly one place:
/// fills in the ledger (<see cref="Fills"/>, <see cref="Recovered"/>), health counters either in the saved state (version
/// <see cref="Version"/>) or, until a save carries them there, in the reporting activation's <see cref="Pending"/> part. The
/// counter members (<see cref="Polls"/> to <see cref="AmountMismatches"/>) are the sum of both; the saved part is that sum
/// minus <see cref="Pending"/>.
/// </summary>
/// <param name="AccountId">Account id: used inside the metrics grain only, never exported as a label.</param>
/// <param name="Source">Metric label <c>source</c>.</param>
/// <param name="Fills">Fill totals per (side, liquidity) bucket.</param>
/// <param name="Errors">Errors by reason.</param>
/// <param name="CursorLoads">State loads by result.</param>
/// <param name="CursorSaves">State saves by result.</param>
/// <param name="LastSaveUnixMs">Last successful state save; null before the first.</param>
/// <param name="StreamConnected">The account's user data stream is open now.</param>
/// <param name="StreamExpected">The account runs a user data stream (ingest and stream on).</param>
/// <param name="StreamEvents">Stream events by result; null in a copy persisted by a version before the stream.</param>
/// <param name="Recovered">Counted fills first found by the trailing re-scan (from the ledger).</param>
/// <param name="Version">Orders the saved part: it grows with every save of the account (0: no state loaded yet).</param>
/// <param name="Pending">The reporting activation's counts that no saved state holds yet; null from versions before it.</param>
/// <param name="Folded">The saved state's marks of which activations' pending counts its saves carried.</param>
[GenerateSerializer, Immutable]
public sealed record AccountSnapshot(
    // Ids 1, 3, 5, 6, 7 and 14 held the source and the keyed counters as label text; not to be reused. A persisted copy
    // (JSON) is unchanged: its keys were and are the label text.
    [property: Id(0)] string AccountId,
    [property: Id(18)] FillSource Source,
    [property: Id(2)] long Version,
    [property: Id(19)] IReadOnlyDictionary<FillBucket, FillTotals> Fills,
    [property: Id(4)] long Polls,
    [property: Id(20)] IReadOnlyDictionary<ErrorReason, long> Errors,
    [property: Id(21)] IReadOnlyDictionary<CursorResult, long> CursorLoads,
    [property: Id(22)] IReadOnlyDictionary<CursorResult, long> CursorSaves,
    [property: Id(8)] long? LastSaveUnixMs,
    // Id(9) held a count of completed polls, always equal to Polls; not to be reused.
    [property: Id(10)] bool Polling,
    [property: Id(11)] long Recovered = 0,
    [property: Id(12)] bool StreamConnected = false,
    [property: Id(13)] bool StreamExpected = false,
    [property: Id(23)] IReadOnlyDictionary<StreamEventResult, long>? StreamEvents = null,
    [property: Id(15)] long AmountMismatches = 0,
    [property: Id(16)] PendingCounters? Pending = null,
    [property: Id(17)] IReadOnlyList<PendingFold>? Folded = null)
{
    /// <summary>The health counters as reported: saved plus pending.</summary>
    public HealthCounters Counted => new(Polls, Errors, CursorLoads, CursorSaves, StreamEvents ?? new Dictionary<StreamEventResult, long>(), AmountMismatches);

    /// <summary>The counters of the saved state this report was made on.</summary>
    public HealthCounters Saved => Pending is { } pending ? Counted.Subtract(pending.Counters) : Counted;

    /// <summary>This snapshot with <paramref name="counters"/> as its counter members and no pending part.</summary>
    public AccountSnapshot WithCounters(HealthCounters counters) => this with
    {
        Polls = counters.Polls,
        Errors = counters.Errors,
        CursorLoads = counters.CursorLoads,
        CursorSaves = counters.CursorSaves,
        StreamEvents = counters.StreamEvents,
        AmountMismatches = counters.AmountMismatches,
        Pending = null,
    };
}
