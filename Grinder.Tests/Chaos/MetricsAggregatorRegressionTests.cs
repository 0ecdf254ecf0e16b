using Grinder.Grains;
using Grinder.Grains.Metrics;

namespace Grinder.Tests.Chaos;

/// <summary>What the chaos test found in <see cref="MetricsAggregator"/>, pinned down without a cluster.</summary>
public sealed class MetricsAggregatorRegressionTests
{
    [Fact]
    public void A_newer_snapshot_that_lacks_unsaved_counts_does_not_take_a_counter_back()
    {
        var aggregator = new MetricsAggregator();

        // A duplicate activation counted its own state load (never saved) and was reported first...
        aggregator.Apply(Snapshot(version: 5_000_000, fills: 40, polls: 100, loadsOk: 3, httpErrors: 7));

        // ...then the surviving activation's saved state, a newer version, arrives without that load.
        Assert.True(aggregator.Apply(Snapshot(version: 6_000_001, fills: 41, polls: 101, loadsOk: 2, httpErrors: 7)));
        var held = aggregator.Aggregate();
        Assert.Equal(3, held.CursorLoads["reconcile|ok"]);
        Assert.Equal(41, held.Fills["reconcile|buy|taker"].Count);
        Assert.Equal(101, held.Polls["reconcile"]);

        // Once the account's own count passes the held value, it is reported as it is.
        aggregator.Apply(Snapshot(version: 7_000_001, fills: 42, polls: 102, loadsOk: 4, httpErrors: 8));
        held = aggregator.Aggregate();
        Assert.Equal(4, held.CursorLoads["reconcile|ok"]);
        Assert.Equal(8, held.Errors["reconcile|http"]);
        Assert.Equal(42, held.Fills["reconcile|buy|taker"].Count);
    }

    [Fact]
    public void An_older_version_is_still_ignored()
    {
        var aggregator = new MetricsAggregator();
        aggregator.Apply(Snapshot(version: 6_000_001, fills: 41, polls: 101, loadsOk: 2, httpErrors: 7));

        Assert.False(aggregator.Apply(Snapshot(version: 5_000_000, fills: 50, polls: 200, loadsOk: 9, httpErrors: 9)));
        Assert.Equal(41, aggregator.Aggregate().Fills["reconcile|buy|taker"].Count);
        Assert.Equal(2, aggregator.Aggregate().CursorLoads["reconcile|ok"]);
    }

    private static AccountSnapshot Snapshot(long version, long fills, long polls, long loadsOk, long httpErrors) => new(
        "chaos-00",
        "reconcile",
        version,
        new Dictionary<string, FillTotals> { ["buy|taker"] = new(fills, fills * 100m, fills * 0.05m, 0m) },
        polls,
        new Dictionary<string, long> { ["http"] = httpErrors },
        new Dictionary<string, long> { ["ok"] = loadsOk },
        new Dictionary<string, long> { ["ok"] = polls },
        1_700_000_000_000 + version,
        true);
}
