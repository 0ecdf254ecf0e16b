using System.Diagnostics;
using System.Globalization;
using Grinder.Grains;
using Grinder.Tests.Infrastructure;
using static Grinder.Benchmarks.BenchReport;

namespace Grinder.Benchmarks;

/// <summary>
/// /metrics latency with many accounts' snapshots in FillMetricsGrain: the snapshots are reported through the grain,
/// then the real HTTP endpoint of an in-process silo (local mode) is scraped over loopback, interleaved with the same
/// silo's /healthz and an unmapped path (a 404 through the whole pipeline: the trivial baseline).
/// "static": no reports while scraping. "live": every account re-reports at the default poll interval (5 s) while
/// scraping, so the aggregate is recomputed and the grain persists its snapshots every 10 s, as in production.
/// </summary>
internal static class MetricsBenchmark
{
    private static readonly string[] Buckets = ["buy|maker", "buy|taker", "sell|maker", "sell|taker"];

    public static async Task<int> RunAsync(BenchArgs args)
    {
        var sizes = args.Ints("accounts", "1000,10000");
        var scrapes = args.Int("scrapes", 1000);
        var liveSeconds = args.Duration("live", TimeSpan.FromSeconds(30));
        var reportInterval = args.Duration("report-interval", new Grinder.Grains.Ingest.IngestOptions().PollInterval);
        args.RejectUnknown();
        Header("metrics", args);
        Console.WriteLine($"setup: in-process silo, local file storage, ingest off; snapshots reported with IFillMetricsGrain.ReportAsync "
            + $"(4 fill buckets, 2 error reasons, load/save results; 90% source=reconcile, 10% sim); sequential scrapes over loopback; "
            + $"static: {scrapes} scrapes per endpoint; live: {Format(liveSeconds)} while every account re-reports every {Format(reportInterval)}");

        using var data = new TempDirectory();
        await using var silo = await InProcessSilo.StartAsync(new Dictionary<string, string?>(SiloSettings.Quiet()) { ["GRINDER_DATA_DIR"] = data.Path });
        var metrics = silo.Grains.GetGrain<IFillMetricsGrain>(0);
        using var http = new HttpClient { BaseAddress = silo.BaseUrl, Timeout = TimeSpan.FromSeconds(30) };
        var reported = 0;
        var version = 1L;
        foreach (var size in sizes.Order())
        {
            var reporting = Stopwatch.StartNew();
            await Task.WhenAll(Enumerable.Range(reported, size - reported).Select(i => metrics.ReportAsync(Snapshot(i, version))));
            reported = size;
            var aggregate = await metrics.GetAggregateAsync();
            Console.WriteLine($"{aggregate.Accounts:N0} accounts reported in {reporting.Elapsed.TotalSeconds:0.00} s");

            await ScrapeAsync(http, 50, null);
            var quiet = await ScrapeAsync(http, scrapes, null);
            Print($"{size:N0} accounts, static", quiet);

            if (liveSeconds > TimeSpan.Zero)
            {
                using var stop = new CancellationTokenSource();
                var reporter = ReportContinuouslyAsync(metrics, size, reportInterval, version, stop.Token);
                var live = await ScrapeAsync(http, int.MaxValue, liveSeconds);
                await stop.CancelAsync();
                version = await reporter;
                Print($"{size:N0} accounts, live", live);
            }
        }

        return 0;
    }

    private static void Print(string label, Dictionary<string, List<double>> samples)
    {
        var metrics = samples["/metrics"];
        foreach (var (path, latencies) in samples)
        {
            Console.WriteLine(Invariant($"{label}: GET {path,-14} n={latencies.Count,6}  p50 {Percentile(latencies, 50),7:0.000} ms  p99 {Percentile(latencies, 99),7:0.000} ms  max {latencies.Max(),8:0.000} ms"));
        }

        var health = samples["/healthz"];
        var trivial = samples["/not-mapped"];
        Console.WriteLine(Invariant($"{label}: /metrics p99 {Percentile(metrics, 99):0.00} ms (goal <= 50 ms); ratio to /healthz p50 {Percentile(metrics, 50) / Percentile(health, 50):0.00}, p99 {Percentile(metrics, 99) / Percentile(health, 99):0.00}; ")
            + Invariant($"ratio to 404 p50 {Percentile(metrics, 50) / Percentile(trivial, 50):0.00}, p99 {Percentile(metrics, 99) / Percentile(trivial, 99):0.00}"));
    }

    /// <summary>Round-robin over the three paths (so machine noise hits all alike); each request includes reading the whole body.</summary>
    private static async Task<Dictionary<string, List<double>>> ScrapeAsync(HttpClient http, int rounds, TimeSpan? duration)
    {
        var samples = new Dictionary<string, List<double>>
        {
            ["/metrics"] = [],
            ["/healthz"] = [],
            ["/not-mapped"] = [],
        };
        var clock = Stopwatch.StartNew();
        for (var round = 0; round < rounds && (duration is null || clock.Elapsed < duration); round++)
        {
            foreach (var (path, latencies) in samples)
            {
                var start = Stopwatch.GetTimestamp();
                using var response = await http.GetAsync(path.TrimStart('/'), HttpCompletionOption.ResponseContentRead);
                latencies.Add(Stopwatch.GetElapsedTime(start).TotalMilliseconds);
                if (path == "/metrics" && !response.IsSuccessStatusCode)
                {
                    throw new InvalidOperationException($"/metrics answered {(int)response.StatusCode}");
                }
            }
        }

        return samples;
    }

    /// <summary>Re-reports every account once per interval, spread evenly (newer versions, so each is applied). Returns the last version used.</summary>
    private static async Task<long> ReportContinuouslyAsync(IFillMetricsGrain metrics, int accounts, TimeSpan interval, long version, CancellationToken stop)
    {
        var batch = Math.Max(1, accounts / 100);
        var pause = interval / (accounts / (double)batch);
        var next = 0;
        var clock = Stopwatch.StartNew();
        var sent = 0L;
        while (!stop.IsCancellationRequested)
        {
            version++;
            await Task.WhenAll(Enumerable.Range(0, batch).Select(k => metrics.ReportAsync(Snapshot((next + k) % accounts, version))));
            next = (next + batch) % accounts;
            sent += batch;
            var due = pause * (sent / (double)batch) - clock.Elapsed;
            if (due > TimeSpan.Zero)
            {
                await Task.Delay(due, CancellationToken.None);
            }
        }

        Console.WriteLine(Invariant($"  reporter: {sent / clock.Elapsed.TotalSeconds:N0} reports/s (target {accounts / interval.TotalSeconds:N0}/s)"));
        return version;
    }

    private static AccountSnapshot Snapshot(int index, long version)
    {
        var fills = Buckets.ToDictionary(bucket => bucket, bucket => new FillTotals(version * 3 + index % 7, version * 1000.5m + index, version * 0.5m, index % 3 == 0 ? version * 0.01m : 0m));
        return new AccountSnapshot(
            "acct-" + index.ToString("000000", CultureInfo.InvariantCulture),
            index % 10 == 0 ? "sim" : "reconcile",
            version,
            fills,
            version * 10,
            new Dictionary<string, long> { ["http"] = index % 5, ["parse"] = index % 3 },
            new Dictionary<string, long> { ["ok"] = 1 },
            new Dictionary<string, long> { ["ok"] = version * 10 },
            DateTimeOffset.UtcNow.ToUnixTimeMilliseconds() - index % 5000,
            version * 10,
            true);
    }
}
