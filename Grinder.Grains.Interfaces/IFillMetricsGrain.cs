namespace Grinder.Grains;

/// <summary>Cluster-wide holder of every account's newest counter snapshot; serves the aggregate behind <c>/metrics</c>.</summary>
public interface IFillMetricsGrain : IGrainWithIntegerKey
{
    /// <summary>Takes the parts of <paramref name="snapshot"/> that are newer than those held for its account.</summary>
    Task ReportAsync(AccountSnapshot snapshot);

    /// <summary>The aggregate over all accounts' newest snapshots.</summary>
    Task<MetricsAggregate> GetAggregateAsync();
}
