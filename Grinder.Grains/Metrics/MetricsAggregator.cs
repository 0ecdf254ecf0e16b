namespace Grinder.Grains.Metrics;

/// <summary>
/// Keeps the newest snapshot per account and the label-level sums incrementally, so a scrape costs O(series), not O(accounts).
/// Not thread-safe: owned by one grain activation.
/// </summary>
public sealed class MetricsAggregator
{
    private readonly Dictionary<string, AccountSnapshot> _accounts = new(StringComparer.Ordinal);
    private readonly Dictionary<string, FillTotals> _fills = new(StringComparer.Ordinal);
    private readonly Dictionary<string, long> _polls = new(StringComparer.Ordinal);
    private readonly Dictionary<string, long> _errors = new(StringComparer.Ordinal);
    private readonly Dictionary<string, long> _loads = new(StringComparer.Ordinal);
    private readonly Dictionary<string, long> _saves = new(StringComparer.Ordinal);
    private readonly Dictionary<string, long> _recovered = new(StringComparer.Ordinal);
    private readonly Dictionary<string, long> _streamsConnected = new(StringComparer.Ordinal);
    private readonly Dictionary<string, long> _streamsExpected = new(StringComparer.Ordinal);
    private readonly Dictionary<string, long> _streamEvents = new(StringComparer.Ordinal);
    private readonly Dictionary<string, long> _mismatches = new(StringComparer.Ordinal);
    private long _reconcileRuns;
    private MetricsAggregate? _cached;

    public IReadOnlyDictionary<string, AccountSnapshot> Accounts => _accounts;

    /// <summary>
    /// Applies <paramref name="snapshot"/> when it is newer than the held one; returns whether it was applied. No counter of
    /// the account goes below the held value: a snapshot can carry counts that were never saved (the state load a new
    /// activation counts, dropped when its first save conflicts with a late write of the old or a duplicate activation
    /// and it adopts the stored state; the polls of a silo whose saves failed until it died), and the saved state that
    /// follows, with a higher version, lacks them. Taking it as it is would take the counter back, which Prometheus reads
    /// as a reset. The held value stays until the account's own count passes it.
    /// </summary>
    public bool Apply(AccountSnapshot snapshot)
    {
        if (_accounts.TryGetValue(snapshot.AccountId, out var held))
        {
            if (snapshot.Version <= held.Version)
            {
                return false;
            }

            Accumulate(held, -1);
            snapshot = NeverBelow(held, snapshot);
        }

        _accounts[snapshot.AccountId] = snapshot;
        Accumulate(snapshot, +1);
        _cached = null;
        return true;
    }

    /// <summary>Adds one load error to the held snapshot of <paramref name="accountId"/> (an empty one if none is held).</summary>
    public void ApplyLoadError(string accountId, string source)
    {
        var held = _accounts.GetValueOrDefault(accountId) ?? new AccountSnapshot(
            accountId, source, 0, new Dictionary<string, FillTotals>(), 0, new Dictionary<string, long>(),
            new Dictionary<string, long>(), new Dictionary<string, long>(), null, false);
        var updated = held with
        {
            CursorLoads = Plus(held.CursorLoads, MetricLabels.CursorResult.Error),
            Errors = Plus(held.Errors, MetricLabels.Reason.Cursor),
            Polling = false,
        };
        if (_accounts.ContainsKey(accountId))
        {
            Accumulate(held, -1);
        }

        _accounts[accountId] = updated;
        Accumulate(updated, +1);
        _cached = null;
    }

    public MetricsAggregate Aggregate()
    {
        if (_cached is not null)
        {
            return _cached;
        }

        var oldest = new Dictionary<string, long>(StringComparer.Ordinal);
        foreach (var account in _accounts.Values)
        {
            if (account.Polling && account.LastSaveUnixMs is { } saved)
            {
                oldest[account.Source] = oldest.TryGetValue(account.Source, out var current) ? Math.Min(current, saved) : saved;
            }
        }

        _cached = new MetricsAggregate(
            new Dictionary<string, FillTotals>(_fills, StringComparer.Ordinal),
            new Dictionary<string, long>(_polls, StringComparer.Ordinal),
            new Dictionary<string, long>(_errors, StringComparer.Ordinal),
            new Dictionary<string, long>(_loads, StringComparer.Ordinal),
            new Dictionary<string, long>(_saves, StringComparer.Ordinal),
            oldest,
            _reconcileRuns,
            _accounts.Count,
            new Dictionary<string, long>(_recovered, StringComparer.Ordinal),
            new Dictionary<string, long>(_streamsConnected, StringComparer.Ordinal),
            new Dictionary<string, long>(_streamsExpected, StringComparer.Ordinal),
            new Dictionary<string, long>(_streamEvents, StringComparer.Ordinal),
            new Dictionary<string, long>(_mismatches, StringComparer.Ordinal));
        return _cached;
    }

    private void Accumulate(AccountSnapshot snapshot, int sign)
    {
        foreach (var (bucket, totals) in snapshot.Fills)
        {
            var key = MetricLabels.Series(snapshot.Source, bucket);
            var current = _fills.GetValueOrDefault(key, FillTotals.Zero);
            _fills[key] = sign > 0 ? current.Add(totals) : current.Subtract(totals);
        }

        Add(_polls, snapshot.Source, snapshot.Polls * sign);
        foreach (var (reason, count) in snapshot.Errors)
        {
            Add(_errors, MetricLabels.Series(snapshot.Source, reason), count * sign);
        }

        foreach (var (result, count) in snapshot.CursorLoads)
        {
            Add(_loads, MetricLabels.Series(snapshot.Source, result), count * sign);
        }

        foreach (var (result, count) in snapshot.CursorSaves)
        {
            Add(_saves, MetricLabels.Series(snapshot.Source, result), count * sign);
        }

        // grinder_reconcile_runs_total counts every completed account poll, of all sources.
        _reconcileRuns += snapshot.Polls * sign;
        Add(_recovered, snapshot.Source, snapshot.Recovered * sign);
        Add(_mismatches, snapshot.Source, snapshot.AmountMismatches * sign);
        if (snapshot.StreamExpected)
        {
            Add(_streamsExpected, snapshot.Source, sign);
            Add(_streamsConnected, snapshot.Source, snapshot.StreamConnected ? sign : 0);
        }

        foreach (var (result, count) in snapshot.StreamEvents ?? new Dictionary<string, long>())
        {
            Add(_streamEvents, MetricLabels.Series(snapshot.Source, result), count * sign);
        }
    }

    private static AccountSnapshot NeverBelow(AccountSnapshot held, AccountSnapshot next) => next with
    {
        Fills = Max(held.Fills, next.Fills, static (a, b) => new FillTotals(
            Math.Max(a.Count, b.Count), Math.Max(a.Notional, b.Notional), Math.Max(a.Fees, b.Fees), Math.Max(a.Rebates, b.Rebates))),
        Polls = Math.Max(held.Polls, next.Polls),
        Errors = Max(held.Errors, next.Errors, Math.Max),
        CursorLoads = Max(held.CursorLoads, next.CursorLoads, Math.Max),
        CursorSaves = Max(held.CursorSaves, next.CursorSaves, Math.Max),
        Recovered = Math.Max(held.Recovered, next.Recovered),
        AmountMismatches = Math.Max(held.AmountMismatches, next.AmountMismatches),
        StreamEvents = Max(held.StreamEvents ?? new Dictionary<string, long>(), next.StreamEvents ?? new Dictionary<string, long>(), Math.Max),
    };

    private static Dictionary<string, T> Max<T>(IReadOnlyDictionary<string, T> held, IReadOnlyDictionary<string, T> next, Func<T, T, T> max)
    {
        var merged = new Dictionary<string, T>(next, StringComparer.Ordinal);
        foreach (var (key, value) in held)
        {
            merged[key] = merged.TryGetValue(key, out var current) ? max(value, current) : value;
        }

        return merged;
    }

    private static Dictionary<string, long> Plus(IReadOnlyDictionary<string, long> counters, string key)
    {
        var copy = new Dictionary<string, long>(counters, StringComparer.Ordinal);
        copy[key] = copy.GetValueOrDefault(key) + 1;
        return copy;
    }

    private static void Add(Dictionary<string, long> target, string key, long delta) =>
        target[key] = target.GetValueOrDefault(key) + delta;
}
