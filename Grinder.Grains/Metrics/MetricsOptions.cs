namespace Grinder.Grains.Metrics;

/// <summary>Settings of the cluster-wide metrics holder (section <c>Grinder:Metrics</c>).</summary>
public sealed class MetricsOptions
{
    public const string SectionName = "Grinder:Metrics";

    /// <summary>
    /// How often <see cref="FillMetricsGrain"/> persists its snapshots while reports arrive. The copy only matters after a
    /// move of the grain, where it keeps counters from going back until every account has reported again; accounts hold
    /// the authoritative counters, so a longer interval costs nothing but write volume.
    /// </summary>
    public TimeSpan FlushInterval { get; set; } = TimeSpan.FromSeconds(10);

    public static IEnumerable<string> Validate(MetricsOptions options)
    {
        if (options.FlushInterval <= TimeSpan.Zero)
        {
            yield return "Grinder:Metrics:FlushInterval must be a positive TimeSpan (e.g. 00:00:10)";
        }
    }
}
