namespace Grinder.Grains;

/// <summary>
/// Stored state of one account: read positions per symbol, health counters and the quarantine. Fill totals live in the
/// fill ledger; <see cref="Fills"/>, <see cref="FeesByAsset"/> and <see cref="RebatesByAsset"/> are read only from a state
/// written before the ledger existed (<see cref="LedgerFormat"/> 0), carried into the ledger once, and empty afterwards.
/// No credentials, ever.
/// </summary>
[GenerateSerializer]
public sealed class FillIngestState
{
    /// <summary>Per symbol: where to read next and what was counted.</summary>
    [Id(0)]
    public Dictionary<string, SymbolCursor> Symbols { get; set; } = new(StringComparer.Ordinal);

    /// <summary>Cumulative fills keyed by the bucket's stored form (<c>buy|taker</c>, <see cref="FillBucket.TryParse"/>).</summary>
    [Id(1)]
    public Dictionary<string, FillTotals> Fills { get; set; } = new(StringComparer.Ordinal);

    [Id(2)]
    public long Polls { get; set; }

    // Ids 3, 4, 5 and 15 held the keyed counters below as label text. Stored as JSON, they keep their names and their keys'
    // text (each label's JsonStringEnumMemberName), so states written before they were typed load unchanged.

    /// <summary>Errors by reason.</summary>
    [Id(19)]
    public Dictionary<ErrorReason, long> Errors { get; set; } = [];

    /// <summary>State loads by result.</summary>
    [Id(20)]
    public Dictionary<CursorResult, long> CursorLoads { get; set; } = [];

    /// <summary>State saves by result.</summary>
    [Id(21)]
    public Dictionary<CursorResult, long> CursorSaves { get; set; } = [];

    /// <summary>When this state was last changed (the runbook's <c>updated_at_ms</c>).</summary>
    [Id(6)]
    public long UpdatedAtMs { get; set; }

    /// <summary>Time of the last successful save, recorded in the save itself.</summary>
    [Id(7)]
    public long? LastSaveMs { get; set; }

    /// <summary>Newest rejected rows, oldest dropped first.</summary>
    [Id(8)]
    public List<QuarantinedRow> Quarantine { get; set; } = [];

    // Id(9) held a count of rows ever quarantined that nothing read; not to be reused (states written with it still load).

    /// <summary>Successful saves; orders the snapshots reported to the metrics grain.</summary>
    [Id(10)]
    public long SaveCount { get; set; }

    // Id(11) held a count of completed polls, always equal to Polls; not to be reused (states written with it still load).

    /// <summary>Positive commissions per commission asset: <c>grinder_fill_fees_total</c> sums them, this says in what (fees in different assets are never silently one number).</summary>
    [Id(12)]
    public Dictionary<string, decimal> FeesByAsset { get; set; } = new(StringComparer.Ordinal);

    /// <summary>Rebates (negative commissions, as positive amounts) per commission asset.</summary>
    [Id(13)]
    public Dictionary<string, decimal> RebatesByAsset { get; set; } = new(StringComparer.Ordinal);

    /// <summary>0: written before the fill ledger (counters in this state); 1: fill totals live in the ledger.</summary>
    [Id(14)]
    public int LedgerFormat { get; set; }

    /// <summary>User data stream events by result.</summary>
    [Id(22)]
    public Dictionary<StreamEventResult, long> StreamEvents { get; set; } = [];

    /// <summary>Fills read again with amounts that differ from the recorded ones (the first-seen values stay).</summary>
    [Id(16)]
    public long AmountMismatches { get; set; }

    /// <summary>Fingerprints of rows dropped from <see cref="Quarantine"/>, newest last (bounded): read again, they are not counted again.</summary>
    [Id(17)]
    public List<long> QuarantineDropped { get; set; } = [];

    /// <summary>
    /// Which activations' pending counts the saves of this state carried (newest last, bounded): an activation's save adds
    /// its pending counts to the counters above and marks it here in the same write, so the metrics grain can tell when a
    /// pending part it holds is in the saved counters and must no longer be added to them.
    /// </summary>
    [Id(18)]
    public List<PendingFold> FoldedPending { get; set; } = [];
}
