using Grinder.FakeBinance;
using Grinder.Grains;
using Grinder.Grains.Ledger;
using Grinder.Tests.Infrastructure;
using Grinder.Tests.Ingest;

namespace Grinder.Tests.Silo;

/// <summary>
/// The runbook's Gate 1, Gate 2 and Rollback sections against a live silo over HTTP (local mode, real keys of a fake
/// exchange account, so fills are labelled <c>source="reconcile"</c>): each expectation the runbook's
/// <c>curl | grep</c> lines state, checked on the parsed exposition.
/// </summary>
public sealed class RunbookGateTests
{
    private const string Key = "gate-key-7f3a";
    private const string Secret = "gate-secret-91c4e";

    [Fact]
    public async Task Gate1_gate2_and_rollback_hold_over_http()
    {
        await using var exchange = await FakeExchange.StartAsync();
        exchange.AddAccount(Key, Secret);
        exchange.GenerateTrades(Key, "BTCUSDT", 40, seed: 1, startTimeMs: DateTimeOffset.UtcNow.ToUnixTimeMilliseconds());
        using var data = new TempDirectory();
        Dictionary<string, string?> Settings(string ingest) => new()
        {
            ["FILL_INGEST_ENABLED"] = ingest,
            ["GRINDER_DATA_DIR"] = data.Path,
            ["BINANCE_API_KEY"] = Key,
            ["BINANCE_API_SECRET"] = Secret,
            ["Grinder:Binance:BaseUrl"] = exchange.BaseUrl.ToString(),
            ["Grinder:Ingest:PollInterval"] = "00:00:01",
            ["Grinder:Ingest:KeeperInterval"] = "00:00:01",
        };

        // Gate 1: enable.
        IReadOnlyList<MetricSample> gate1;
        await using (var silo = await InProcessSilo.StartAsync(Settings("1")))
        {
            gate1 = await Eventually.ReturnsAsync(
                () => silo.ScrapeAsync(Key, Secret),
                m => m.Value("grinder_fill_ingest_polls_total", ("source", "reconcile")) >= 3 && m.Sum("grinder_fills_total", ("source", "reconcile")) >= 40,
                TimeSpan.FromSeconds(60),
                "polls growing and fills counted");
            Assert.Equal(1, gate1.Value("grinder_fill_ingest_enabled", ("source", "reconcile")));
            Assert.Equal(0, gate1.Value("grinder_fill_ingest_errors_total", ("source", "none"), ("reason", "none")));
            Assert.True(gate1.Value("grinder_fill_cursor_save_total", ("source", "reconcile"), ("result", "ok")) > 0);
            Assert.True(gate1.Value("grinder_reconcile_runs_total") > 0);
            Assert.True(gate1.Value("grinder_fill_cursor_age_seconds", ("source", "reconcile")) < 30);
            Assert.Equal(exchange.ValidTradeCount(Key), gate1.Sum("grinder_fills_total", ("source", "reconcile")));
            Assert.Contains(gate1, s => s.Name == "grinder_fills_total" && s.Labels["side"] != "none" && s.Labels["liquidity"] != "none");
        }

        // Gate 2: restart. Polls continue from where they were, no wild jump in fills, cursor loaded.
        await using (var silo = await InProcessSilo.StartAsync(Settings("1")))
        {
            var gate2 = await Eventually.ReturnsAsync(
                () => silo.ScrapeAsync(Key, Secret),
                m => m.Value("grinder_fill_cursor_load_total", ("source", "reconcile"), ("result", "ok")) >= 1
                    && m.Value("grinder_fill_ingest_polls_total", ("source", "reconcile")) > gate1.Value("grinder_fill_ingest_polls_total", ("source", "reconcile")),
                TimeSpan.FromSeconds(60),
                "cursor loaded and polls continuing after the restart");
            Assert.Equal(exchange.ValidTradeCount(Key), gate2.Sum("grinder_fills_total", ("source", "reconcile")));
            await IngestExpectations.LedgerEqualsExchangeAsync(silo.Services.GetRequiredService<IFillLedger>(), "main", exchange, Key);
            gate1 = gate2;
        }

        // Rollback: ingest off. Enabled 0, counters frozen at their values, not reset, and not one request to the exchange.
        var rolledBackAt = exchange.ServerTime;
        await using (var silo = await InProcessSilo.StartAsync(Settings("0")))
        {
            var before = await silo.ScrapeAsync(Key, Secret);
            await silo.Grains.GetGrain<IFillIngestGrain>("acct-main").PollNowAsync();
            await silo.PassPollIntervalAsync();
            var after = await silo.ScrapeAsync(Key, Secret);

            // Neither the explicit poll nor a poll timer or keeper round since the start reached the exchange.
            Assert.DoesNotContain(exchange.Requests, request => request.Time >= rolledBackAt);

            Assert.Equal(0, after.Value("grinder_fill_ingest_enabled", ("source", "reconcile")));
            foreach (var family in new[] { "grinder_fills_total", "grinder_fill_ingest_polls_total", "grinder_fill_notional_total" })
            {
                // Exported as doubles: a counter raised step by step (IncTo adds the difference) and one set once from the
                // same decimal can differ in the last bits, so amounts compare to 1e-12 relative; counts are exact.
                var tolerance = family == "grinder_fill_notional_total" ? Math.Abs(before.Sum(family, ("source", "reconcile"))) * 1e-12 : 0;
                Assert.Equal(gate1.Sum(family, ("source", "reconcile")), before.Sum(family, ("source", "reconcile")), tolerance);
                Assert.Equal(before.Sum(family, ("source", "reconcile")), after.Sum(family, ("source", "reconcile")), tolerance);
            }
        }

        Assert.Empty(exchange.WriteAttempts);
    }

    [Fact]
    public async Task Metrics_out_writes_reconcile_and_fill_families_on_a_graceful_stop()
    {
        using var data = new TempDirectory();
        var durationOut = Path.Combine(data.Path, "duration", "metrics.prom");
        var sigtermOut = Path.Combine(data.Path, "sigterm.prom");

        await using (var byDuration = SiloProcess.Start(
            new Dictionary<string, string?> { ["GRINDER_DATA_DIR"] = Path.Combine(data.Path, "a"), ["ASPNETCORE_URLS"] = $"http://127.0.0.1:{FreePorts.Next()}", ["Grinder__Orleans__SiloPort"] = FreePorts.Next().ToString(System.Globalization.CultureInfo.InvariantCulture), ["Grinder__Orleans__GatewayPort"] = FreePorts.Next().ToString(System.Globalization.CultureInfo.InvariantCulture) },
            "--duration", "3", "--metrics-out", durationOut))
        {
            Assert.Equal(0, await byDuration.WaitForExitAsync(TimeSpan.FromSeconds(90)));
        }

        var port = FreePorts.Next();
        await using (var bySignal = SiloProcess.Start(
            new Dictionary<string, string?> { ["GRINDER_DATA_DIR"] = Path.Combine(data.Path, "b"), ["ASPNETCORE_URLS"] = $"http://127.0.0.1:{port}", ["Grinder__Orleans__SiloPort"] = FreePorts.Next().ToString(System.Globalization.CultureInfo.InvariantCulture), ["Grinder__Orleans__GatewayPort"] = FreePorts.Next().ToString(System.Globalization.CultureInfo.InvariantCulture) },
            "--metrics-out", sigtermOut))
        {
            using var http = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{port}/") };
            await Eventually.TrueAsync(async () => (await http.GetAsync("healthz")).IsSuccessStatusCode, TimeSpan.FromSeconds(60), "the silo to answer /healthz");
            bySignal.Terminate();
            Assert.Equal(0, await bySignal.WaitForExitAsync(TimeSpan.FromSeconds(60)));
        }

        foreach (var file in new[] { durationOut, sigtermOut })
        {
            var text = await File.ReadAllTextAsync(file);
            var samples = MetricsScrape.Check(text);
            // Runbook safety invariants 1 and 5: the artifact has the fill families beside the reconcile ones.
            Assert.Contains(samples, s => s.Name.StartsWith("grinder_fill_", StringComparison.Ordinal));
            Assert.Contains(samples, s => s.Name == "grinder_reconcile_runs_total");
            Assert.Equal(0, samples.Value("grinder_fill_ingest_enabled", ("source", "reconcile")));
        }
    }
}
