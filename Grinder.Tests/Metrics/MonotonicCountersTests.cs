using Grinder.Tests.Infrastructure;

namespace Grinder.Tests.Metrics;

/// <summary>The monotonic check the 2-silo metrics test and the chaos monitor rely on: it must fail on each thing it guards against.</summary>
public sealed class MonotonicCountersTests
{
    private const string Fills = "grinder_fills_total{liquidity=\"maker\",side=\"buy\",source=\"reconcile\"}";
    private const string Polls = "grinder_fill_ingest_polls_total{source=\"reconcile\"}";
    private const string ErrorsPlaceholder = "grinder_fill_ingest_errors_total{reason=\"none\",source=\"none\"}";
    private const string HttpErrors = "grinder_fill_ingest_errors_total{reason=\"http\",source=\"reconcile\"}";

    [Fact]
    public void Counters_that_rise_or_stay_pass_and_only_counter_families_of_a_scrape_are_series()
    {
        var check = new MonotonicCounters("/metrics");
        check.Observe(Scrape("grinder_fills_total{source=\"reconcile\",side=\"buy\",liquidity=\"maker\"} 3\ngrinder_fill_cursor_age_seconds{source=\"reconcile\"} 9\n"));
        check.Observe(Scrape("grinder_fills_total{source=\"reconcile\",side=\"buy\",liquidity=\"maker\"} 3\ngrinder_fill_cursor_age_seconds{source=\"reconcile\"} 1\n"));
        check.Observe(new Dictionary<string, decimal> { [Fills] = 4, [Polls] = 0 });
        check.Observe(new Dictionary<string, decimal> { [Fills] = 4, [Polls] = 7 });

        Assert.Empty(check.Violations);
        Assert.Equal([Polls, Fills], check.Series.Order(StringComparer.Ordinal));
        Assert.Equal(4, check.Samples);
    }

    [Fact]
    public void A_counter_below_its_highest_value_fails()
    {
        var check = new MonotonicCounters("/metrics");
        check.Observe(new Dictionary<string, decimal> { [Fills] = 5 });
        check.Observe(new Dictionary<string, decimal> { [Fills] = 6 });
        check.Observe(new Dictionary<string, decimal> { [Fills] = 5.5m });

        var violation = Assert.Single(check.Violations);
        Assert.Contains($"/metrics {Fills}: 6 -> 5.5", violation, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(3)]
    [InlineData(0)]
    public void A_series_that_disappears_fails_even_at_zero(int value)
    {
        var check = new MonotonicCounters("/metrics");
        check.Observe(new Dictionary<string, decimal> { [Fills] = 5, [Polls] = value });
        check.Observe(new Dictionary<string, decimal> { [Fills] = 5 });

        var violation = Assert.Single(check.Violations);
        Assert.Contains($"{Polls}: {value} -> gone", violation, StringComparison.Ordinal);
    }

    [Fact]
    public void A_failed_scrape_fails()
    {
        var check = new MonotonicCounters("/metrics of silo a");
        check.Observe(new Dictionary<string, decimal> { [Fills] = 5 });
        check.Failed("HttpRequestException: 500 (Internal Server Error)");
        check.Observe(new Dictionary<string, decimal> { [Fills] = 5 });

        var violation = Assert.Single(check.Violations);
        Assert.Contains("/metrics of silo a: no sample (HttpRequestException: 500", violation, StringComparison.Ordinal);
    }

    [Fact]
    public void Only_the_series_allowed_to_vanish_may_go_and_a_placeholder_is_recognised()
    {
        var check = new MonotonicCounters("/metrics", MonotonicCounters.IsPlaceholder);
        check.Observe(new Dictionary<string, decimal> { [ErrorsPlaceholder] = 0, [Polls] = 1 });
        check.Observe(new Dictionary<string, decimal> { [HttpErrors] = 1, [Polls] = 2 });
        Assert.Empty(check.Violations);

        check.Observe(new Dictionary<string, decimal> { [Polls] = 3 });
        Assert.Contains($"{HttpErrors}: 1 -> gone", Assert.Single(check.Violations), StringComparison.Ordinal);

        Assert.True(MonotonicCounters.IsPlaceholder(ErrorsPlaceholder));
        Assert.False(MonotonicCounters.IsPlaceholder(HttpErrors));
        Assert.False(MonotonicCounters.IsPlaceholder("grinder_reconcile_runs_total{}"));
    }

    private static Dictionary<string, decimal> Scrape(string text) => MonotonicCounters.Counters(MetricsScrape.Parse(text));
}
