using System.Net;
using System.Text.Json;
using Grinder.Grains;
using Grinder.Grains.Binance;
using Grinder.Tests.Infrastructure;

namespace Grinder.Tests.Silo;

/// <summary>A silo in local mode with ingest off answers the runbook's Gate 0 and serves health and dashboard.</summary>
public sealed class Gate0Tests : IAsyncLifetime
{
    private readonly TempDirectory _data = new();
    private InProcessSilo _silo = null!;

    public async Task InitializeAsync()
    {
        _silo = await InProcessSilo.StartAsync(new Dictionary<string, string?> { ["GRINDER_DATA_DIR"] = _data.Path });
    }

    public async Task DisposeAsync()
    {
        await _silo.DisposeAsync();
        _data.Dispose();
    }

    [Fact]
    public async Task Metrics_show_the_gate0_placeholders_in_text_format_0_0_4()
    {
        using var response = await _silo.Http.GetAsync("metrics");
        var body = await response.Content.ReadAsStringAsync();
        MetricsScrape.Check(body);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("text/plain; version=0.0.4; charset=utf-8", response.Content.Headers.ContentType!.ToString());
        var lines = body.Split('\n');
        Assert.Contains("grinder_fill_ingest_enabled{source=\"reconcile\"} 0", lines);
        Assert.Contains("grinder_fill_ingest_polls_total{source=\"none\"} 0", lines);
        Assert.Contains("grinder_fill_ingest_errors_total{source=\"none\",reason=\"none\"} 0", lines);
        Assert.Contains("grinder_fills_total{source=\"none\",side=\"none\",liquidity=\"none\"} 0", lines);
        Assert.Contains("grinder_fill_notional_total{source=\"none\",side=\"none\",liquidity=\"none\"} 0", lines);
        Assert.Contains("grinder_fill_fees_total{source=\"none\",side=\"none\",liquidity=\"none\"} 0", lines);
        Assert.DoesNotContain(lines, line => line.StartsWith("process_", StringComparison.Ordinal) || line.StartsWith("dotnet_", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Metrics_negotiate_openmetrics_for_prometheus()
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, "metrics");
        request.Headers.TryAddWithoutValidation("Accept", "application/openmetrics-text;version=1.0.0,text/plain;version=0.0.4;q=0.5");
        using var response = await _silo.Http.SendAsync(request);
        var body = await response.Content.ReadAsStringAsync();

        Assert.StartsWith("application/openmetrics-text", response.Content.Headers.ContentType!.ToString());
        Assert.EndsWith("# EOF\n", body);
        Assert.Contains("grinder_fill_ingest_enabled{source=\"reconcile\"} 0", body);
    }

    [Fact]
    public async Task Healthz_is_200_json_with_storage_and_cluster_checks()
    {
        using var response = await _silo.Http.GetAsync("healthz");
        using var json = JsonDocument.Parse(await response.Content.ReadAsStringAsync());

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("Healthy", json.RootElement.GetProperty("status").GetString());
        var checks = json.RootElement.GetProperty("checks");
        Assert.Equal("local", checks.GetProperty("storage").GetProperty("data").GetProperty("mode").GetString());
        Assert.Equal(1, checks.GetProperty("cluster").GetProperty("data").GetProperty("active_silos").GetInt32());
    }

    [Fact]
    public async Task Dashboard_is_served_to_loopback_clients()
    {
        using var response = await _silo.Http.GetAsync("dashboard/");
        var body = await response.Content.ReadAsStringAsync();
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Contains("<html", body, StringComparison.OrdinalIgnoreCase);
    }

    [Fact]
    public async Task Reported_counters_show_real_labels_and_drop_the_placeholder()
    {
        await _silo.Grains.GetGrain<IFillMetricsGrain>(0).ReportAsync(new AccountSnapshot(
            "acct-gate0", FillSource.Reconcile, 1,
            new Dictionary<FillBucket, FillTotals> { [new(FillSide.Buy, FillLiquidity.Taker)] = new(42, 12345.67m, 4.93m, 0m) },
            120, new Dictionary<ErrorReason, long>(), new Dictionary<CursorResult, long> { [CursorResult.Ok] = 1 },
            new Dictionary<CursorResult, long> { [CursorResult.Ok] = 120 }, DateTimeOffset.UtcNow.ToUnixTimeMilliseconds(), true));

        var text = await _silo.Http.GetStringAsync("metrics");
        MetricsScrape.Check(text);
        var lines = text.Split('\n');

        Assert.Contains("grinder_fills_total{source=\"reconcile\",side=\"buy\",liquidity=\"taker\"} 42", lines);
        Assert.Contains("grinder_fill_notional_total{source=\"reconcile\",side=\"buy\",liquidity=\"taker\"} 12345.67", lines);
        Assert.Contains("grinder_fill_fees_total{source=\"reconcile\",side=\"buy\",liquidity=\"taker\"} 4.93", lines);
        Assert.Contains("grinder_fill_cursor_save_total{source=\"reconcile\",result=\"ok\"} 120", lines);
        Assert.DoesNotContain("grinder_fills_total{source=\"none\",side=\"none\",liquidity=\"none\"} 0", lines);
        Assert.Contains("grinder_fill_ingest_errors_total{source=\"none\",reason=\"none\"} 0", lines);
        Assert.Contains("grinder_reconcile_runs_total 120", lines);
    }
}
