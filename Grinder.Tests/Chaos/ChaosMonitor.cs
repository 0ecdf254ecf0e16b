using System.Collections.Concurrent;
using System.Globalization;
using System.Text.Json;
using Grinder.Grains;
using Grinder.Grains.Binance;
using Grinder.Tests.Infrastructure;

namespace Grinder.Tests.Chaos;

/// <summary>
/// Watches a chaos run from outside, every <see cref="Interval"/>: the cluster-wide metrics aggregate (through the
/// cluster client), the <c>/metrics</c> text a scrape would get, and every stored account state (SQL on
/// <c>grinder_grain_state_json</c>, as an operator reads it). Each goes through a <see cref="MonotonicCounters"/> check:
/// a series that went down or vanished is a violation, and so is a sample that failed while no disruption was under way.
/// </summary>
/// <remarks>
/// A silo's exporter only ever raises a counter (<c>IncTo</c>), so the text of one long-lived exporter could not go down
/// whatever the aggregate did. The <c>/metrics</c> half renders every sample with a new exporter instead: the first scrape of
/// a silo started at that moment (the chaos run replaces silos all the time), which shows any decrease or lost series of
/// the aggregate as a scrape would.
/// </remarks>
public sealed class ChaosMonitor(IGrainFactory grains, PostgresDatabase database)
{
    public static readonly TimeSpan Interval = TimeSpan.FromMilliseconds(250);
    private static readonly TimeSpan CallDeadline = TimeSpan.FromSeconds(5);

    private readonly MonotonicCounters _aggregate = new("aggregate");
    private readonly MonotonicCounters _scrapes = new("/metrics", MonotonicCounters.IsPlaceholder);
    private readonly MonotonicCounters _stored = new("stored state");
    private readonly CancellationTokenSource _stop = new();
    private readonly ConcurrentQueue<string> _sampleErrors = new();
    private readonly Disruptions _disruptions = new();
    private Task[] _loops = [];

    public int AggregateSamples { get; private set; }

    public int ScrapeSamples { get; private set; }

    public int StateSamples { get; private set; }

    /// <summary>Samples that could not be taken during a disruption (a silo or PostgreSQL was down): expected, reported for the record.</summary>
    public IReadOnlyCollection<string> SampleErrors => _sampleErrors;

    /// <summary>
    /// Every violation of the monotonic check: a counter, cursor or stored counter that went down or vanished, or a sample
    /// that failed while no disruption was under way.
    /// </summary>
    public IReadOnlyList<string> Violations => [.. _aggregate.Violations, .. _scrapes.Violations, .. _stored.Violations];

    /// <summary>The first <paramref name="each"/> violations of each check (aggregate, <c>/metrics</c>, stored state) with their counts.</summary>
    public string ViolationReport(int each) => string.Join('\n', new[] { _aggregate, _scrapes, _stored }
        .Where(check => check.Violations.Count > 0)
        .SelectMany(check => check.Violations.Take(each).Append($"({check.Violations.Count} in all)")));

    /// <summary>Cursor series (account, symbol, field) seen in storage: proves the cursor check had something to check.</summary>
    public int CursorSeries => _stored.Series.Count(series => series.Contains("LastTradeId", StringComparison.Ordinal));

    public void Start() => _loops = [Task.Run(() => LoopAsync(SampleAggregateAsync, _aggregate)), Task.Run(() => LoopAsync(SampleScrapeAsync, _scrapes)), Task.Run(() => LoopAsync(SampleStateAsync, _stored))];

    /// <summary>Marks a disruption (a silo killed until its replacement is up, a PostgreSQL restart): samples that fail meanwhile are expected.</summary>
    public IDisposable Disruption() => _disruptions.Begin();

    public async Task StopAsync()
    {
        await _stop.CancelAsync();
        await Task.WhenAll(_loops);
    }

    /// <summary>Stored counted fills of one account per (side, liquidity), straight from the ledger's totals table an operator reads.</summary>
    public static async Task<Dictionary<FillBucket, FillTotals>> StoredFillsAsync(PostgresDatabase database, string accountId)
    {
        // The fill counters live in the ledger's totals, one row per (source, side, liquidity), side and liquidity as their labels.
        var rows = await database.QueryAsync(
            "SELECT side, liquidity, sum(fills), sum(notional), sum(fees), sum(rebates) FROM grinder_fill_totals WHERE account = @account GROUP BY 1, 2",
            ("account", accountId));
        return rows.ToDictionary(
            row => new FillBucket(
                (string)row[0]! switch { "buy" => FillSide.Buy, "sell" => FillSide.Sell, var other => throw new InvalidOperationException($"side '{other}' in the totals") },
                (string)row[1]! switch { "maker" => FillLiquidity.Maker, "taker" => FillLiquidity.Taker, var other => throw new InvalidOperationException($"liquidity '{other}' in the totals") }),
            row => new FillTotals(Convert.ToInt64(row[2], CultureInfo.InvariantCulture), (decimal)row[3]!, (decimal)row[4]!, (decimal)row[5]!));
    }

    private async Task LoopAsync(Func<Task> sample, MonotonicCounters check)
    {
        using var ticker = new PeriodicTimer(Interval);
        do
        {
            var mark = _disruptions.Mark();
            try
            {
                await sample();
            }
            catch (OperationCanceledException) when (_stop.IsCancellationRequested)
            {
                // Stopping: a sample cut short by the stop is not a finding.
                return;
            }
            catch (Exception ex) when (ex is not OperationCanceledException || !_stop.IsCancellationRequested)
            {
                var error = $"{ex.GetType().Name}: {ex.Message}";
                if (_disruptions.Overlapped(mark))
                {
                    _sampleErrors.Enqueue($"{DateTimeOffset.UtcNow:HH:mm:ss.fff} {error}");
                }
                else
                {
                    check.Failed(error);
                }
            }
        }
        while (await WaitAsync(ticker));
    }

    private async Task<bool> WaitAsync(PeriodicTimer ticker)
    {
        try
        {
            return await ticker.WaitForNextTickAsync(_stop.Token);
        }
        catch (OperationCanceledException)
        {
            return false;
        }
    }

    private async Task SampleAggregateAsync()
    {
        var held = await grains.GetGrain<IFillMetricsGrain>(0).GetAggregateAsync().WaitAsync(CallDeadline, _stop.Token);
        var series = new Dictionary<string, decimal>(StringComparer.Ordinal);
        foreach (var (fillSeries, totals) in held.Fills)
        {
            var key = string.Join('|', fillSeries.Labels());
            series[$"fills {key}"] = totals.Count;
            series[$"notional {key}"] = totals.Notional;
            series[$"fees {key}"] = totals.Fees;
            series[$"rebates {key}"] = totals.Rebates;
        }

        Sample(series, "polls", held.Polls, static source => [source.Label()]);
        Sample(series, "errors", held.Errors, static key => key.Labels());
        Sample(series, "cursor_load", held.CursorLoads, static key => key.Labels());
        Sample(series, "cursor_save", held.CursorSaves, static key => key.Labels());

        series["reconcile_runs"] = held.ReconcileRuns;
        _aggregate.Observe(series);
        AggregateSamples++;
    }

    // Sampled series are named by their label values, as a scrape shows them (e.g. "errors reconcile|http").
    private static void Sample<TKey>(Dictionary<string, decimal> series, string family, IReadOnlyDictionary<TKey, long> counters, Func<TKey, string[]> labels)
        where TKey : notnull
    {
        foreach (var (key, value) in counters)
        {
            series[$"{family} {string.Join('|', labels(key))}"] = value;
        }
    }

    private async Task SampleScrapeAsync()
    {
        var text = await MetricsScrape.RenderClusterAsync(grains, _stop.Token).WaitAsync(CallDeadline, _stop.Token);
        _scrapes.Observe(MonotonicCounters.Counters(MetricsScrape.Parse(text)));
        ScrapeSamples++;
    }

    private async Task SampleStateAsync()
    {
        var rows = await database.QueryAsync("SELECT grain_key, state::text FROM grinder_grain_state_json WHERE state_name = 'ingest'").WaitAsync(CallDeadline, _stop.Token);
        var series = new Dictionary<string, decimal>(StringComparer.Ordinal);
        foreach (var row in rows)
        {
            var account = (string)row[0]!;
            var json = (string)row[1]!;
            using var state = JsonDocument.Parse(json);
            var root = state.RootElement;

            // The storage serializer leaves out members at their default (0, null, an empty map), so a missing member is its
            // default; a state without its symbols map, or a cursor that is not an object, is a finding, quoted.
            series[$"{account} Polls"] = Int64Or(root, "Polls", 0);
            series[$"{account} SaveCount"] = Int64Or(root, "SaveCount", 0);
            if (!root.TryGetProperty("Symbols", out var symbols) || symbols.ValueKind != JsonValueKind.Object)
            {
                throw new InvalidDataException($"stored state of {account} has no Symbols map: {Quote(json)}");
            }

            foreach (var symbol in symbols.EnumerateObject())
            {
                if (symbol.Value.ValueKind != JsonValueKind.Object || symbol.Value.TryGetProperty("$ref", out _))
                {
                    throw new InvalidDataException($"stored cursor {account} {symbol.Name} is not an object: {Quote(json)}");
                }

                // A cursor that has not read a trade yet (bootstrapping by time window) has no id: it stands below every id.
                series[$"{account} {symbol.Name} LastTradeId"] = symbol.Value.TryGetProperty("LastTradeId", out var lastTradeId) && lastTradeId.ValueKind == JsonValueKind.Number ? lastTradeId.GetInt64() : -1;
                series[$"{account} {symbol.Name} ReadHighWaterId"] = Int64Or(symbol.Value, "ReadHighWaterId", -1);
            }

            if (root.TryGetProperty("Fills", out var fills) && fills.ValueKind == JsonValueKind.Object)
            {
                foreach (var bucket in fills.EnumerateObject())
                {
                    series[$"{account} fills {bucket.Name}"] = Int64Or(bucket.Value, "Count", 0);
                }
            }
        }

        _stored.Observe(series);
        StateSamples++;
    }

    private static long Int64Or(JsonElement element, string name, long missing) =>
        element.ValueKind == JsonValueKind.Object && element.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.Number ? value.GetInt64() : missing;

    private static string Quote(string json) => json.Length <= 600 ? json : json[..600] + "...";
}
