namespace Grinder.Grains;

/// <summary>Persisted state of <see cref="IFillMetricsGrain"/>: the newest snapshot per account, so that a re-activated grain never serves lower counters.</summary>
[GenerateSerializer]
public sealed class FillMetricsState
{
    [Id(0)]
    public Dictionary<string, AccountSnapshot> Accounts { get; set; } = new(StringComparer.Ordinal);
}
