using Grinder.Grains.Binance;
using Grinder.Grains.Metrics;

namespace Grinder.Tests.Metrics;

/// <summary>
/// The metrics' label vocabulary: Binance's failure kinds count under the runbook's <c>reason</c> labels, which alerts select
/// by, and bucket and series keys come apart into the label values they were built from.
/// </summary>
public sealed class MetricLabelsTests
{
    [Theory]
    [InlineData(BinanceFailureKind.Http, "http")]
    [InlineData(BinanceFailureKind.Parse, "parse")]
    [InlineData(BinanceFailureKind.Unexpected, "unknown")]
    public void Each_failure_kind_counts_under_its_runbook_label(BinanceFailureKind kind, string label)
    {
        Assert.Equal(label, MetricLabels.Reason.Of(kind));
    }

    [Fact]
    public void Every_failure_kind_has_a_runbook_label()
    {
        Assert.All(Enum.GetValues<BinanceFailureKind>(), kind => Assert.Contains(MetricLabels.Reason.Of(kind), (string[])["http", "parse", "cursor", "unknown"]));
    }

    [Fact]
    public void A_bucket_key_reads_back_as_its_side_and_liquidity_and_anything_else_is_refused()
    {
        foreach (var side in Enum.GetValues<FillSide>())
        {
            foreach (var liquidity in Enum.GetValues<FillLiquidity>())
            {
                Assert.True(MetricLabels.TryParseBucket(MetricLabels.Bucket(side, liquidity), out var readSide, out var readLiquidity));
                Assert.Equal((side, liquidity), (readSide, readLiquidity));
            }
        }

        Assert.Equal("sell|maker", MetricLabels.Bucket(FillSide.Sell, FillLiquidity.Maker));
        Assert.False(MetricLabels.TryParseBucket("buy", out _, out _));
        Assert.False(MetricLabels.TryParseBucket("buy|maker|x", out _, out _));
        Assert.False(MetricLabels.TryParseBucket("long|maker", out _, out _));
    }

    [Fact]
    public void A_series_key_comes_apart_into_the_label_values_in_their_order()
    {
        Assert.Equal(["reconcile", "buy", "taker"], MetricLabels.Labels(MetricLabels.Series("reconcile", MetricLabels.Bucket(FillSide.Buy, FillLiquidity.Taker))));
        Assert.Equal(["sim", "rejected_non_monotonic"], MetricLabels.Labels(MetricLabels.Series("sim", MetricLabels.CursorResult.RejectedNonMonotonic)));
    }
}
