using System.Text;
using Grinder.Grains;
using Grinder.Grains.Ingest;
using Grinder.Grains.Metrics;
using Grinder.Silo.Hosting;
using Microsoft.Extensions.Options;
using Prometheus;

namespace Grinder.Silo.Metrics;

/// <summary>
/// The <c>/metrics</c> families of the runbook in a registry owned by this silo (prometheus-net's default registry is
/// process-wide and exports every .NET meter). Filled from <see cref="IFillMetricsGrain"/> on each scrape, so every
/// silo serves the same cluster-wide series. Counters only move up (<c>IncTo</c>), so a scrape never shows a decrease.
/// </summary>
public sealed class FillMetricsExporter : IMetricsTextSource
{
    private const string None = "none";
    private static readonly TimeSpan AggregateDeadline = TimeSpan.FromSeconds(5);

    private readonly IGrainFactory _grains;
    private readonly IOptions<IngestOptions> _ingest;
    private readonly TimeProvider _time;
    private readonly SemaphoreSlim _gate = new(1, 1);
    private readonly CollectorRegistry _registry = Prometheus.Metrics.NewCustomRegistry();
    private readonly Counter _fills;
    private readonly Counter _notional;
    private readonly Counter _fees;
    private readonly Counter _rebates;
    private readonly Counter _polls;
    private readonly Gauge _enabled;
    private readonly Counter _errors;
    private readonly Counter _cursorLoads;
    private readonly Counter _cursorSaves;
    private readonly Gauge _lastSave;
    private readonly Gauge _cursorAge;
    private readonly Counter _reconcileRuns;
    private readonly Counter _recovered;
    private readonly Gauge _streamsConnected;
    private readonly Gauge _streamsExpected;
    private readonly Counter _streamEvents;
    private readonly Counter _mismatches;

    public FillMetricsExporter(IGrainFactory grains, IOptions<IngestOptions> ingest, TimeProvider time)
    {
        _grains = grains;
        _ingest = ingest;
        _time = time;
        var factory = Prometheus.Metrics.WithCustomRegistry(_registry);
        string[] fillLabels = ["source", "side", "liquidity"];
        _fills = factory.CreateCounter("grinder_fills_total", "Fills counted exactly once.", fillLabels);
        _notional = factory.CreateCounter("grinder_fill_notional_total", "Cumulative notional (qty x price) of counted fills, in the quote asset.", fillLabels);
        _fees = factory.CreateCounter("grinder_fill_fees_total", "Cumulative positive commissions of counted fills, summed across commission assets (per-asset detail in /healthz).", fillLabels);
        _rebates = factory.CreateCounter("grinder_fill_rebates_total", "Cumulative negative commissions (maker rebates) of counted fills, as positive amounts.", fillLabels);
        _polls = factory.CreateCounter("grinder_fill_ingest_polls_total", "Completed ingest polls.", ["source"]);
        _enabled = factory.CreateGauge("grinder_fill_ingest_enabled", "1 if fill ingest is on (FILL_INGEST_ENABLED=1), 0 otherwise.", ["source"]);
        _errors = factory.CreateCounter("grinder_fill_ingest_errors_total", "Ingest errors by reason (http, parse, cursor, unknown).", ["source", "reason"]);
        _cursorLoads = factory.CreateCounter("grinder_fill_cursor_load_total", "Cursor loads by result (ok, error).", ["source", "result"]);
        _cursorSaves = factory.CreateCounter("grinder_fill_cursor_save_total", "Cursor saves by result (ok, error, rejected_non_monotonic).", ["source", "result"]);
        _lastSave = factory.CreateGauge("grinder_fill_cursor_last_save_ts", "Epoch seconds of the last successful cursor save (oldest across polling accounts).", ["source"]);
        _cursorAge = factory.CreateGauge("grinder_fill_cursor_age_seconds", "Seconds since the last successful cursor save, computed at scrape time (worst account).", ["source"]);
        _recovered = factory.CreateCounter("grinder_fill_recovered_total", "Fills first found by the trailing re-scan: the primary read path had missed them (each is logged FILL_RECOVERED).", ["source"]);
        _streamsConnected = factory.CreateGauge("grinder_fill_streams_connected", "Accounts whose user data stream is connected now.", ["source"]);
        _streamsExpected = factory.CreateGauge("grinder_fill_streams_expected", "Accounts that run a user data stream (ingest and stream on).", ["source"]);
        _streamEvents = factory.CreateCounter("grinder_fill_stream_events_total", "User data stream fill events by result (recorded, duplicate, rejected, mismatch).", ["source", "result"]);
        _mismatches = factory.CreateCounter("grinder_fill_amount_mismatches_total", "Fills read again with amounts that differ from the recorded ones; the first-seen values stay (FILL_AMOUNT_MISMATCH).", ["source"]);
        _reconcileRuns = factory.CreateCounter("grinder_reconcile_runs_total", "Completed account polls (one per account per tick).");
    }

    public async Task<string> RenderAsync(CancellationToken cancellationToken)
    {
        using var buffer = new MemoryStream();
        await ExportAsync(buffer, ExpositionFormat.PrometheusText, cancellationToken);
        return Encoding.UTF8.GetString(buffer.ToArray());
    }

    /// <summary>Refreshes the registry from the cluster-wide aggregate and writes it in <paramref name="format"/>.</summary>
    public async Task ExportAsync(Stream destination, ExpositionFormat format, CancellationToken cancellationToken)
    {
        var aggregate = await _grains.GetGrain<IFillMetricsGrain>(0).GetAggregateAsync().WaitAsync(AggregateDeadline, cancellationToken);
        await _gate.WaitAsync(cancellationToken);
        try
        {
            Update(aggregate);
            await _registry.CollectAndExportAsTextAsync(destination, format, cancellationToken);
        }
        finally
        {
            _gate.Release();
        }
    }

    private void Update(MetricsAggregate aggregate)
    {
        UpdateFills(_fills, aggregate.Fills, static totals => totals.Count);
        UpdateFills(_notional, aggregate.Fills, static totals => (double)totals.Notional);
        UpdateFills(_fees, aggregate.Fills, static totals => (double)totals.Fees);
        UpdateFills(_rebates, aggregate.Fills, static totals => (double)totals.Rebates);

        UpdateCounter(_polls, aggregate.Polls, static source => [source.Label()], [None]);
        UpdateCounter(_errors, aggregate.Errors, static series => series.Labels(), [None, None]);
        UpdateCounter(_cursorLoads, aggregate.CursorLoads, static series => series.Labels(), [None, None]);
        UpdateCounter(_cursorSaves, aggregate.CursorSaves, static series => series.Labels(), [None, None]);
        UpdateCounter(_recovered, aggregate.Recovered, static source => [source.Label()], [None]);
        UpdateCounter(_streamEvents, aggregate.StreamEvents, static series => series.Labels(), [None, None]);
        UpdateCounter(_mismatches, aggregate.AmountMismatches, static source => [source.Label()], [None]);
        UpdateGauge(_streamsConnected, aggregate.StreamsConnected);
        UpdateGauge(_streamsExpected, aggregate.StreamsExpected);
        _reconcileRuns.IncTo(aggregate.ReconcileRuns);

        // Runbook Gate 0: the reconcile switch is always present, 0 or 1.
        var on = _ingest.Value.Enabled ? 1 : 0;
        _enabled.WithLabels(FillSource.Reconcile.Label()).Set(on);
        foreach (var source in aggregate.Polls.Keys.Where(source => source != FillSource.Reconcile))
        {
            _enabled.WithLabels(source.Label()).Set(on);
        }

        var nowMs = _time.GetUtcNow().ToUnixTimeMilliseconds();
        if (aggregate.OldestLastSaveUnixMs.Count == 0)
        {
            _lastSave.WithLabels(None).Set(0);
            _cursorAge.WithLabels(None).Set(0);
        }
        else
        {
            _lastSave.RemoveLabelled(None);
            _cursorAge.RemoveLabelled(None);
            foreach (var (source, savedMs) in aggregate.OldestLastSaveUnixMs)
            {
                _lastSave.WithLabels(source.Label()).Set(savedMs / 1000.0);
                _cursorAge.WithLabels(source.Label()).Set(Math.Max(0, nowMs - savedMs) / 1000.0);
            }
        }
    }

    // Gauges: the none placeholder at 0 until a source has a series; a series that loses its last account shows 0.
    private static void UpdateGauge(Gauge gauge, IReadOnlyDictionary<FillSource, long> series)
    {
        if (series.Count == 0)
        {
            gauge.WithLabels(None).Set(0);
            return;
        }

        gauge.RemoveLabelled(None);
        foreach (var (source, value) in series)
        {
            gauge.WithLabels(source.Label()).Set(value);
        }
    }

    private static void UpdateFills(Counter counter, IReadOnlyDictionary<FillSeries, FillTotals> series, Func<FillTotals, double> value) =>
        SetSeries(counter, series.Select(pair => (pair.Key.Labels(), value(pair.Value))).ToList(), [None, None, None]);

    private static void UpdateCounter<TKey>(Counter counter, IReadOnlyDictionary<TKey, long> series, Func<TKey, string[]> labels, string[] placeholder) =>
        SetSeries(counter, series.Select(pair => (labels(pair.Key), (double)pair.Value)).ToList(), placeholder);

    // A family with no real series shows its all-"none" placeholder at 0; the placeholder disappears once a real series exists (runbook Gate 0).
    private static void SetSeries(Counter counter, IReadOnlyList<(string[] Labels, double Value)> values, string[] placeholder)
    {
        if (values.Count == 0)
        {
            counter.WithLabels(placeholder).Publish();
            return;
        }

        counter.RemoveLabelled(placeholder);
        foreach (var (labels, value) in values)
        {
            var child = counter.WithLabels(labels);
            child.IncTo(value);
            child.Publish();
        }
    }
}
