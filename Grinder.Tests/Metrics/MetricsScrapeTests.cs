using Grinder.Tests.Infrastructure;
using Xunit.Sdk;

namespace Grinder.Tests.Metrics;

/// <summary>The label contract every scrape of a test goes through (<see cref="MetricsScrape.Check"/>) fails on each kind of violation.</summary>
public sealed class MetricsScrapeTests
{
    private const string Good = """
        # TYPE grinder_fills_total counter
        grinder_fills_total{source="reconcile",side="buy",liquidity="maker"} 3
        grinder_fill_ingest_errors_total{source="none",reason="none"} 0
        grinder_reconcile_runs_total 7
        """;

    [Fact]
    public void A_scrape_within_the_contract_passes_and_parses()
    {
        var samples = MetricsScrape.Check(Good, ["s3cr3t-value"]);

        Assert.Equal(3, samples.Value("grinder_fills_total", ("source", "reconcile"), ("side", "buy"), ("liquidity", "maker")));
        Assert.Equal(7, samples.Value("grinder_reconcile_runs_total"));
    }

    [Theory]
    [InlineData("grinder_fills_total{source=\"reconcile\",symbol=\"BTCUSDT\"} 1", "forbidden label symbol=")]
    [InlineData("grinder_fill_ingest_polls_total{source=\"reconcile\",account=\"main\"} 1", "forbidden label account=")]
    [InlineData("grinder_fill_ingest_polls_total{source=\"reconcile\",shard=\"2\"} 1", "label shard is not part of the contract")]
    [InlineData("grinder_fill_ingest_polls_total{source=\"binance\"} 1", "")]
    [InlineData("grinder_fill_ingest_polls_total{source=\"reconcile\"} 1 extra", "unparseable exposition line")]
    public void A_scrape_outside_the_contract_fails(string line, string because)
    {
        var failure = Assert.ThrowsAny<XunitException>(() => MetricsScrape.Check(Good + "\n" + line + "\n"));
        Assert.Contains(because, failure.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_secret_anywhere_in_the_scrape_fails_without_being_repeated()
    {
        var failure = Assert.ThrowsAny<XunitException>(() => MetricsScrape.Check(Good + "\n# HELP grinder_x key s3cr3t-value\n", ["s3cr3t-value"]));
        Assert.DoesNotContain("s3cr3t-value", failure.Message, StringComparison.Ordinal);
    }
}
