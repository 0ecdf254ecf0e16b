using System.Collections.Concurrent;
using System.Globalization;
using System.Text.Json;
using Grinder.Grains;
using Grinder.Silo.Metrics;
using Grinder.Tests.Infrastructure;

namespace Grinder.Tests.Chaos;

/// <summary>
/// Watches a chaos run from outside, every <see cref="Interval"/>: the cluster-wide metrics aggregate (through the
/// cluster client), the <c>/metrics</c> text a scrape would get (the silo's own exporter), and every stored account
/// state (SQL on <c>grinder_grain_state_json</c>, as an operator reads it). Records every series that went down.
/// </summary>
/// <remarks>
/// The exporter only ever raises a counter (<c>IncTo</c>), so within one process its text cannot go down; the aggregate
/// is what every silo's exporter starts from, and the strict check. The text still proves what a scrape shows at the end.
/// </remarks>
public sealed class ChaosMonitor(IGrainFactory grains, PostgresDatabase database, FillMetricsExporter exporter)
{
    public static readonly TimeSpan Interval = TimeSpan.FromMilliseconds(250);
    private static readonly TimeSpan CallDeadline = TimeSpan.FromSeconds(5);

    private readonly Monotonic aggregate = new("aggregate");
    private readonly Monotonic scrapes = new("/metrics");
    private readonly Monotonic stored = new("stored state");
    private readonly CancellationTokenSource stop = new();
    private readonly ConcurrentQueue<string> sampleErrors = new();
    private Task[] loops = [];

    public int AggregateSamples { get; private set; }

    public int ScrapeSamples { get; private set; }

    public int StateSamples { get; private set; }

    /// <summary>Samples that could not be taken (a silo or PostgreSQL was down): expected during chaos, reported for the record.</summary>
    public IReadOnlyCollection<string> SampleErrors => sampleErrors;

    /// <summary>Every observed decrease of a counter, cursor or stored counter, as "where series: before -> after".</summary>
    public IReadOnlyList<string> Decreases => [.. aggregate.Decreases, .. scrapes.Decreases, .. stored.Decreases];

    /// <summary>Cursor series (account, symbol, field) seen in storage: proves the cursor check had something to check.</summary>
    public int CursorSeries => stored.Series.Count(series => series.Contains("LastTradeId", StringComparison.Ordinal));

    public void Start() => loops = [Task.Run(() => LoopAsync(SampleMetricsAsync)), Task.Run(() => LoopAsync(SampleStateAsync))];

    public async Task StopAsync()
    {
        await stop.CancelAsync();
        await Task.WhenAll(loops);
    }

    /// <summary>Stored <c>Polls</c> of every account grain key, read now.</summary>
    public static async Task<Dictionary<string, long>> StoredPollsAsync(PostgresDatabase database)
    {
        var rows = await database.QueryAsync("SELECT grain_key, (state->>'Polls')::bigint FROM grinder_grain_state_json WHERE state_name = 'ingest'");
        return rows.ToDictionary(row => (string)row[0]!, row => (long)row[1]!, StringComparer.Ordinal);
    }

    /// <summary>Stored counted fills of one account by <c>side|liquidity</c>, straight from the JSON an operator reads.</summary>
    public static async Task<Dictionary<string, FillTotals>> StoredFillsAsync(PostgresDatabase database, string accountId)
    {
        // The fill counters live in the ledger's totals, one row per (source, side, liquidity).
        var rows = await database.QueryAsync(
            "SELECT side || '|' || liquidity, sum(fills), sum(notional), sum(fees), sum(rebates) FROM grinder_fill_totals WHERE account = @account GROUP BY 1",
            ("account", accountId));
        return rows.ToDictionary(
            row => (string)row[0]!,
            row => new FillTotals(Convert.ToInt64(row[1], CultureInfo.InvariantCulture), (decimal)row[2]!, (decimal)row[3]!, (decimal)row[4]!),
            StringComparer.Ordinal);
    }

    /// <summary>Counter series of a <c>/metrics</c> text: every sample line of a <c>_total</c> family.</summary>
    public static Dictionary<string, double> Counters(string exposition) =>
        exposition.Split('\n')
            .Where(line => line.Length > 0 && line[0] != '#')
            .Select(line => (Series: line[..line.LastIndexOf(' ')], Value: line[(line.LastIndexOf(' ') + 1)..]))
            .Where(sample => sample.Series.Split('{')[0].EndsWith("_total", StringComparison.Ordinal))
            .ToDictionary(sample => sample.Series, sample => double.Parse(sample.Value, NumberStyles.Float, CultureInfo.InvariantCulture), StringComparer.Ordinal);

    private async Task LoopAsync(Func<Task> sample)
    {
        using var ticker = new PeriodicTimer(Interval);
        do
        {
            try
            {
                await sample();
            }
            catch (OperationCanceledException) when (stop.IsCancellationRequested)
            {
                // Stopping: a sample cut short by the stop is not a finding.
                return;
            }
            catch (Exception ex) when (ex is not OperationCanceledException || !stop.IsCancellationRequested)
            {
                sampleErrors.Enqueue($"{DateTimeOffset.UtcNow:HH:mm:ss.fff} {ex.GetType().Name}: {ex.Message}");
            }
        }
        while (await WaitAsync(ticker));
    }

    private async Task<bool> WaitAsync(PeriodicTimer ticker)
    {
        try
        {
            return await ticker.WaitForNextTickAsync(stop.Token);
        }
        catch (OperationCanceledException)
        {
            return false;
        }
    }

    private async Task SampleMetricsAsync()
    {
        var held = await grains.GetGrain<IFillMetricsGrain>(0).GetAggregateAsync().WaitAsync(CallDeadline, stop.Token);
        var series = new Dictionary<string, decimal>(StringComparer.Ordinal);
        foreach (var (key, totals) in held.Fills)
        {
            series[$"fills {key}"] = totals.Count;
            series[$"notional {key}"] = totals.Notional;
            series[$"fees {key}"] = totals.Fees;
            series[$"rebates {key}"] = totals.Rebates;
        }

        foreach (var (family, counters) in new[] { ("polls", held.Polls), ("errors", held.Errors), ("cursor_load", held.CursorLoads), ("cursor_save", held.CursorSaves) })
        {
            foreach (var (key, value) in counters)
            {
                series[$"{family} {key}"] = value;
            }
        }

        series["reconcile_runs"] = held.ReconcileRuns;
        aggregate.Observe(series);
        AggregateSamples++;

        var text = await exporter.RenderAsync(stop.Token).WaitAsync(CallDeadline, stop.Token);
        scrapes.Observe(Counters(text).ToDictionary(pair => pair.Key, pair => (decimal)pair.Value, StringComparer.Ordinal));
        ScrapeSamples++;
    }

    private async Task SampleStateAsync()
    {
        var rows = await database.QueryAsync("SELECT grain_key, state::text FROM grinder_grain_state_json WHERE state_name = 'ingest'").WaitAsync(CallDeadline, stop.Token);
        var series = new Dictionary<string, decimal>(StringComparer.Ordinal);
        foreach (var row in rows)
        {
            var account = (string)row[0]!;
            using var state = JsonDocument.Parse((string)row[1]!);
            var root = state.RootElement;
            series[$"{account} Polls"] = root.GetProperty("Polls").GetInt64();
            series[$"{account} SaveCount"] = root.GetProperty("SaveCount").GetInt64();
            foreach (var symbol in root.GetProperty("Symbols").EnumerateObject())
            {
                // A cursor that has not read a trade yet (bootstrapping by time window) has no id: it stands below every id.
                var lastTradeId = symbol.Value.GetProperty("LastTradeId");
                series[$"{account} {symbol.Name} LastTradeId"] = lastTradeId.ValueKind == JsonValueKind.Null ? -1 : lastTradeId.GetInt64();
                series[$"{account} {symbol.Name} ReadHighWaterId"] = symbol.Value.TryGetProperty("ReadHighWaterId", out var readHigh) ? readHigh.GetInt64() : -1;
            }

            foreach (var bucket in root.GetProperty("Fills").EnumerateObject())
            {
                series[$"{account} fills {bucket.Name}"] = bucket.Value.GetProperty("Count").GetInt64();
            }
        }

        stored.Observe(series);
        StateSamples++;
    }

    /// <summary>The highest value seen per series; a lower one later (or a series that vanished) is a decrease.</summary>
    private sealed class Monotonic(string where)
    {
        private readonly Dictionary<string, decimal> highest = new(StringComparer.Ordinal);
        private readonly List<string> decreases = [];
        private readonly Lock gate = new();

        public IReadOnlyList<string> Decreases
        {
            get
            {
                lock (gate)
                {
                    return [.. decreases];
                }
            }
        }

        public IReadOnlyCollection<string> Series
        {
            get
            {
                lock (gate)
                {
                    return [.. highest.Keys];
                }
            }
        }

        public void Observe(IReadOnlyDictionary<string, decimal> sample)
        {
            var at = DateTimeOffset.UtcNow.ToString("HH:mm:ss.fff", CultureInfo.InvariantCulture);
            lock (gate)
            {
                foreach (var (series, before) in highest)
                {
                    var now = sample.GetValueOrDefault(series);
                    if (now < before)
                    {
                        decreases.Add($"{at} {where} {series}: {before} -> {(sample.ContainsKey(series) ? now : "gone")}");
                    }
                }

                foreach (var (series, value) in sample)
                {
                    highest[series] = Math.Max(value, highest.GetValueOrDefault(series));
                }
            }
        }
    }
}
