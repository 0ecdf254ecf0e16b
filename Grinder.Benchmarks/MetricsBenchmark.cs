using System.Diagnostics;
using System.Globalization;
using Grinder.Grains;
using Grinder.Tests.Infrastructure;
using Orleans.Storage;
using static Grinder.Benchmarks.BenchReport;

namespace Grinder.Benchmarks;

/// <summary>
/// /metrics latency with many accounts' snapshots in FillMetricsGrain: the snapshots are reported through the grain,
/// then the real HTTP endpoint of an in-process silo (local mode) is scraped over loopback, interleaved with the same
/// silo's /healthz and an unmapped path (a 404 through the whole pipeline: the trivial baseline).
/// "static": no reports while scraping; one scrape after the other. "live": every account re-reports at the default poll
/// interval (5 s) while scraping, so the aggregate is recomputed and the grain persists its snapshots every 10 s, as in
/// production; the scrapes are sent on a fixed schedule whether or not earlier ones have answered (open loop), so a
/// scrape that arrives while the grain is busy waits as a Prometheus scrape arriving at that moment would, and the
/// percentiles are over time rather than over the requests a blocked client happened to send.
/// </summary>
internal static class MetricsBenchmark
{
    public static async Task<int> RunAsync(BenchArgs args)
    {
        var sizes = args.Ints("accounts", "1000,10000");
        var scrapes = args.Int("scrapes", 1000);
        var liveSeconds = args.Duration("live", TimeSpan.FromSeconds(30));
        var spacing = args.Duration("live-spacing", TimeSpan.FromMilliseconds(20));
        var reportInterval = args.Duration("report-interval", new Grinder.Grains.Ingest.IngestOptions().PollInterval);
        var storage = args.Text("storage", "file");
        args.RejectUnknown();
        Header("metrics", args);
        Console.WriteLine($"setup: in-process silo, {(storage == "file" ? "local file storage" : "PostgreSQL storage (throwaway server)")}, ingest off; snapshots reported with IFillMetricsGrain.ReportAsync "
            + $"(4 fill buckets, 2 error reasons, load/save results; 90% source=reconcile, 10% sim); sequential scrapes over loopback; "
            + $"static: {scrapes} scrapes per endpoint, one after the other; live: {Format(liveSeconds)} while every account re-reports every {Format(reportInterval)}, "
            + $"each endpoint requested every {Format(spacing)} (open loop)");

        if (storage is not ("file" or "postgres"))
        {
            throw new ArgumentException("--storage is file or postgres");
        }

        using var data = new TempDirectory();
        await using var database = storage == "postgres" ? await (await PostgresServer.GetAsync()).CreateDatabaseAsync() : null;
        var settings = new Dictionary<string, string?>(SiloSettings.Quiet());
        settings[database is null ? "GRINDER_DATA_DIR" : "GRINDER_POSTGRES"] = database?.ConnectionString ?? data.Path;
        await using var silo = await InProcessSilo.StartAsync(settings);
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

            await ScrapeAsync(http, 50);
            var quiet = await ScrapeAsync(http, scrapes);
            Print($"{size:N0} accounts, static", quiet);

            if (liveSeconds > TimeSpan.Zero)
            {
                using var stop = new CancellationTokenSource();
                var reporter = ReportContinuouslyAsync(metrics, size, reportInterval, version, stop.Token);
                var (live, slow) = await ScrapeOpenLoopAsync(http, liveSeconds, spacing);
                await stop.CancelAsync();
                version = await reporter;
                Print($"{size:N0} accounts, live", live);
                Console.WriteLine("  /metrics scrapes over 50 ms, by burst (start s: count, worst ms): "
                    + (slow.Count == 0 ? "none" : string.Join("; ", Bursts(slow).Select(b => Invariant($"{b.Start:0.0}: {b.Count}, {b.Worst:0}")))));
                var stored = database is null
                    ? Directory.EnumerateFiles(Path.Combine(data.Path, "fills", "metrics")).Select(file => new FileInfo(file).Length).Sum()
                    : await database.ScalarAsync<int>("SELECT octet_length(payload) FROM grinder_grain_state WHERE grain_type = 'metrics'");
                Console.WriteLine(Invariant($"  FillMetricsGrain stored state: {stored / 1024.0 / 1024.0:0.0} MiB, rewritten every 10 s while reports arrive"));
                await TimeFlushAsync(silo.Services, size, version);
            }
        }

        return 0;
    }

    private static void Print(string label, Dictionary<string, List<double>> samples)
    {
        var metrics = samples["/metrics"];
        foreach (var (path, latencies) in samples)
        {
            Console.WriteLine(Invariant($"{label}: GET {path,-14} n={latencies.Count,6}  p50 {Percentile(latencies, 50),7:0.000} ms  p99 {Percentile(latencies, 99),7:0.000} ms  p99.9 {Percentile(latencies, 99.9),8:0.000} ms  max {latencies.Max(),8:0.000} ms  over 50 ms: {latencies.Count(l => l > 50)}"));
        }

        var health = samples["/healthz"];
        var trivial = samples["/not-mapped"];
        Console.WriteLine(Invariant($"{label}: /metrics p99 {Percentile(metrics, 99):0.00} ms (goal <= 50 ms); ratio to /healthz p50 {Percentile(metrics, 50) / Percentile(health, 50):0.00}, p99 {Percentile(metrics, 99) / Percentile(health, 99):0.00}; ")
            + Invariant($"ratio to 404 p50 {Percentile(metrics, 50) / Percentile(trivial, 50):0.00}, p99 {Percentile(metrics, 99) / Percentile(trivial, 99):0.00}"));
    }

    /// <summary>Round-robin over the three paths (so machine noise hits all alike); each request includes reading the whole body.</summary>
    private static async Task<Dictionary<string, List<double>>> ScrapeAsync(HttpClient http, int rounds)
    {
        var samples = new Dictionary<string, List<double>>
        {
            ["/metrics"] = [],
            ["/healthz"] = [],
            ["/not-mapped"] = [],
        };
        for (var round = 0; round < rounds; round++)
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

    /// <summary>
    /// What one flush of FillMetricsGrain costs: its state shape (one snapshot per account) written through the silo's
    /// own "fills" storage provider under another grain id, and the storage serializer alone, median of 5.
    /// </summary>
    private static async Task TimeFlushAsync(IServiceProvider services, int accounts, long version)
    {
        var storage = services.GetRequiredKeyedService<IGrainStorage>(GrinderStorage.Name);
        var serializer = services.GetRequiredService<IGrainStorageSerializer>();
        var state = new FillMetricsState
        {
            Accounts = Enumerable.Range(0, accounts).Select(i => Snapshot(i, version)).ToDictionary(s => s.AccountId, StringComparer.Ordinal),
        };
        var grainState = new GrainState<FillMetricsState>(state);
        // Own state name and a non-hex key: the benchmark's record must not mix with the grain's own (file or row).
        var grainId = GrainId.Create("metricsflushbench", "bench-" + accounts.ToString(CultureInfo.InvariantCulture));
        var writes = new List<double>();
        var serializes = new List<double>();
        var bytes = 0;
        for (var i = 0; i < 6; i++)
        {
            var start = Stopwatch.GetTimestamp();
            bytes = serializer.Serialize(state).ToArray().Length;
            serializes.Add(Stopwatch.GetElapsedTime(start).TotalMilliseconds);
            start = Stopwatch.GetTimestamp();
            await storage.WriteStateAsync("metricsflushbench", grainId, grainState);
            writes.Add(Stopwatch.GetElapsedTime(start).TotalMilliseconds);
        }

        // The first write creates the file (no previous one to read back): leave it out.
        writes.RemoveAt(0);
        serializes.RemoveAt(0);
        Console.WriteLine(Invariant($"  one flush of {accounts:N0} snapshots ({bytes / 1024.0 / 1024.0:0.0} MiB serialized) through the silo's storage provider: {Percentile(writes, 50):0} ms (min {writes.Min():0}, max {writes.Max():0}); ")
            + Invariant($"serializer alone {Percentile(serializes, 50):0} ms"));
    }

    /// <summary>Sends each path every <paramref name="spacing"/> (paths staggered) without waiting for answers; latency counts from the scheduled moment.</summary>
    private static async Task<(Dictionary<string, List<double>> Latencies, List<(double At, double Ms)> SlowMetrics)> ScrapeOpenLoopAsync(HttpClient http, TimeSpan duration, TimeSpan spacing)
    {
        string[] paths = ["/metrics", "/healthz", "/not-mapped"];
        var requests = new List<Task<(string Path, double At, double Ms)>>();
        var clock = Stopwatch.StartNew();
        for (var slot = 0L; ; slot++)
        {
            var due = spacing * (slot / (double)paths.Length);
            if (due > duration)
            {
                break;
            }

            var wait = due - clock.Elapsed;
            if (wait > TimeSpan.Zero)
            {
                await Task.Delay(wait);
            }

            var path = paths[slot % paths.Length];
            requests.Add(Task.Run(async () =>
            {
                using var response = await http.GetAsync(path.TrimStart('/'), HttpCompletionOption.ResponseContentRead);
                if (path == "/metrics" && !response.IsSuccessStatusCode)
                {
                    throw new InvalidOperationException($"/metrics answered {(int)response.StatusCode}");
                }

                return (path, due.TotalSeconds, (clock.Elapsed - due).TotalMilliseconds);
            }));
        }

        var results = await Task.WhenAll(requests);
        return (paths.ToDictionary(path => path, path => results.Where(r => r.Path == path).Select(r => r.Ms).ToList()),
            [.. results.Where(r => r.Path == "/metrics" && r.Ms > 50).Select(r => (r.At, r.Ms)).OrderBy(r => r.At)]);
    }

    /// <summary>Slow scrapes less than a second apart form one burst (one stall of the grain).</summary>
    private static IEnumerable<(double Start, int Count, double Worst)> Bursts(List<(double At, double Ms)> slow)
    {
        var burst = new List<(double At, double Ms)>();
        foreach (var scrape in slow)
        {
            if (burst.Count > 0 && scrape.At - burst[^1].At > 1)
            {
                yield return (burst[0].At, burst.Count, burst.Max(b => b.Ms));
                burst.Clear();
            }

            burst.Add(scrape);
        }

        yield return (burst[0].At, burst.Count, burst.Max(b => b.Ms));
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
        var fills = FillBucket.All.ToDictionary(bucket => bucket, bucket => new FillTotals(version * 3 + index % 7, version * 1000.5m + index, version * 0.5m, index % 3 == 0 ? version * 0.01m : 0m));
        return new AccountSnapshot(
            "acct-" + index.ToString("000000", CultureInfo.InvariantCulture),
            index % 10 == 0 ? FillSource.Sim : FillSource.Reconcile,
            version,
            fills,
            version * 10,
            new Dictionary<ErrorReason, long> { [ErrorReason.Http] = index % 5, [ErrorReason.Parse] = index % 3 },
            new Dictionary<CursorResult, long> { [CursorResult.Ok] = 1 },
            new Dictionary<CursorResult, long> { [CursorResult.Ok] = version * 10 },
            DateTimeOffset.UtcNow.ToUnixTimeMilliseconds() - index % 5000,
            true);
    }
}
