namespace Grinder.Grains;

/// <summary>
/// Persisted state of <see cref="IFillMetricsGrain"/>, so that a re-activated grain never serves lower counters: per account
/// the newest saved part (a snapshot without its pending part) and the pending parts of its activations not yet folded into it.
/// </summary>
[GenerateSerializer]
public sealed class FillMetricsState
{
    [Id(0)]
    public Dictionary<string, AccountSnapshot> Accounts { get; set; } = new(StringComparer.Ordinal);

    /// <summary>Per account, the pending parts held for it (an activation that died before its save folded them stays here).</summary>
    [Id(1)]
    public Dictionary<string, List<PendingCounters>> Pending { get; set; } = new(StringComparer.Ordinal);
}
