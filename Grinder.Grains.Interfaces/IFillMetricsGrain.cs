namespace Grinder.Grains;

/// <summary>Cluster-wide holder of every account's newest counter snapshot; serves the aggregate behind <c>/metrics</c>.</summary>
public interface IFillMetricsGrain : IGrainWithIntegerKey
{
    /// <summary>Stores <paramref name="snapshot"/> if it is newer than the one held for its account.</summary>
    Task ReportAsync(AccountSnapshot snapshot);

    /// <summary>Counts a failed state load of an account (<c>cursor_load{result="error"}</c>) on top of its held snapshot, whose fill counters stay as they are.</summary>
    Task ReportLoadErrorAsync(string accountId, string source);

    /// <summary>The aggregate over all accounts' newest snapshots.</summary>
    Task<MetricsAggregate> GetAggregateAsync();
}
