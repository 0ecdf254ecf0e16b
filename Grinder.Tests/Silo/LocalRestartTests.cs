using Grinder.Grains;
using Grinder.Grains.Binance;
using Grinder.Tests.Infrastructure;

namespace Grinder.Tests.Silo;

/// <summary>Local mode keeps grain state in the data directory across silo restarts.</summary>
public sealed class LocalRestartTests
{
    [Fact]
    public async Task Metric_snapshots_survive_a_silo_restart_in_local_mode()
    {
        using var data = new TempDirectory();
        var settings = new Dictionary<string, string?> { ["GRINDER_DATA_DIR"] = data.Path };

        await using (var first = await InProcessSilo.StartAsync(settings))
        {
            await first.Grains.GetGrain<IFillMetricsGrain>(0).ReportAsync(Snapshot(version: 3, fills: 17));
            // Graceful stop deactivates the grain, which persists what it holds.
        }

        await using var second = await InProcessSilo.StartAsync(settings);
        var aggregate = await second.Grains.GetGrain<IFillMetricsGrain>(0).GetAggregateAsync();

        Assert.Equal(17, aggregate.Fills[new(FillSource.Reconcile, new(FillSide.Sell, FillLiquidity.Maker))].Count);
        var text = await second.Http.GetStringAsync("metrics");
        MetricsScrape.Check(text);
        var lines = text.Split('\n');
        Assert.Contains("grinder_fills_total{source=\"reconcile\",side=\"sell\",liquidity=\"maker\"} 17", lines);
        Assert.Contains("grinder_fill_rebates_total{source=\"reconcile\",side=\"sell\",liquidity=\"maker\"} 0.25", lines);
    }

    private static AccountSnapshot Snapshot(long version, long fills) => new(
        "acct-restart", FillSource.Reconcile, version,
        new Dictionary<FillBucket, FillTotals> { [new(FillSide.Sell, FillLiquidity.Maker)] = new(fills, 1000m, 0m, 0.25m) },
        5, new Dictionary<ErrorReason, long>(), new Dictionary<CursorResult, long>(), new Dictionary<CursorResult, long> { [CursorResult.Ok] = 5 },
        DateTimeOffset.UtcNow.ToUnixTimeMilliseconds(), true);
}
