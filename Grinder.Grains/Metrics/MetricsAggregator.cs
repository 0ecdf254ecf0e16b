namespace Grinder.Grains.Metrics;

/// <summary>
/// Keeps the newest snapshot per account and the label-level sums incrementally, so a scrape costs O(series), not O(accounts).
/// Not thread-safe: owned by one grain activation.
/// </summary>
public sealed class MetricsAggregator
{
    private readonly Dictionary<string, AccountSnapshot> accounts = new(StringComparer.Ordinal);
    private readonly Dictionary<string, FillTotals> fills = new(StringComparer.Ordinal);
    private readonly Dictionary<string, long> polls = new(StringComparer.Ordinal);
    private readonly Dictionary<string, long> errors = new(StringComparer.Ordinal);
    private readonly Dictionary<string, long> loads = new(StringComparer.Ordinal);
    private readonly Dictionary<string, long> saves = new(StringComparer.Ordinal);
    private readonly Dictionary<string, long> recovered = new(StringComparer.Ordinal);
    private readonly Dictionary<string, long> streamsConnected = new(StringComparer.Ordinal);
    private readonly Dictionary<string, long> streamsExpected = new(StringComparer.Ordinal);
    private readonly Dictionary<string, long> streamEvents = new(StringComparer.Ordinal);
    private readonly Dictionary<string, long> mismatches = new(StringComparer.Ordinal);
    private long reconcileRuns;
    private MetricsAggregate? cached;

    public IReadOnlyDictionary<string, AccountSnapshot> Accounts => accounts;

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
        if (accounts.TryGetValue(snapshot.AccountId, out var held))
        {
            if (snapshot.Version <= held.Version)
            {
                return false;
            }

            Accumulate(held, -1);
            snapshot = NeverBelow(held, snapshot);
        }

        accounts[snapshot.AccountId] = snapshot;
        Accumulate(snapshot, +1);
        cached = null;
        return true;
    }

    /// <summary>Adds one load error to the held snapshot of <paramref name="accountId"/> (an empty one if none is held).</summary>
    public void ApplyLoadError(string accountId, string source)
    {
        var held = accounts.GetValueOrDefault(accountId) ?? new AccountSnapshot(
            accountId, source, 0, new Dictionary<string, FillTotals>(), 0, new Dictionary<string, long>(),
            new Dictionary<string, long>(), new Dictionary<string, long>(), null, false);
        var updated = held with
        {
            CursorLoads = Plus(held.CursorLoads, MetricLabels.CursorResult.Error),
            Errors = Plus(held.Errors, MetricLabels.Reason.Cursor),
            Polling = false,
        };
        if (accounts.ContainsKey(accountId))
        {
            Accumulate(held, -1);
        }

        accounts[accountId] = updated;
        Accumulate(updated, +1);
        cached = null;
    }

    public MetricsAggregate Aggregate()
    {
        if (cached is not null)
        {
            return cached;
        }

        var oldest = new Dictionary<string, long>(StringComparer.Ordinal);
        foreach (var account in accounts.Values)
        {
            if (account.Polling && account.LastSaveUnixMs is { } saved)
            {
                oldest[account.Source] = oldest.TryGetValue(account.Source, out var current) ? Math.Min(current, saved) : saved;
            }
        }

        cached = new MetricsAggregate(
            new Dictionary<string, FillTotals>(fills, StringComparer.Ordinal),
            new Dictionary<string, long>(polls, StringComparer.Ordinal),
            new Dictionary<string, long>(errors, StringComparer.Ordinal),
            new Dictionary<string, long>(loads, StringComparer.Ordinal),
            new Dictionary<string, long>(saves, StringComparer.Ordinal),
            oldest,
            reconcileRuns,
            accounts.Count,
            new Dictionary<string, long>(recovered, StringComparer.Ordinal),
            new Dictionary<string, long>(streamsConnected, StringComparer.Ordinal),
            new Dictionary<string, long>(streamsExpected, StringComparer.Ordinal),
            new Dictionary<string, long>(streamEvents, StringComparer.Ordinal),
            new Dictionary<string, long>(mismatches, StringComparer.Ordinal));
        return cached;
    }

    private void Accumulate(AccountSnapshot snapshot, int sign)
    {
        foreach (var (bucket, totals) in snapshot.Fills)
        {
            var key = MetricLabels.Series(snapshot.Source, bucket);
            var current = fills.GetValueOrDefault(key, FillTotals.Zero);
            fills[key] = sign > 0 ? current.Add(totals) : current.Subtract(totals);
        }

        Add(polls, snapshot.Source, snapshot.Polls * sign);
        foreach (var (reason, count) in snapshot.Errors)
        {
            Add(errors, MetricLabels.Series(snapshot.Source, reason), count * sign);
        }

        foreach (var (result, count) in snapshot.CursorLoads)
        {
            Add(loads, MetricLabels.Series(snapshot.Source, result), count * sign);
        }

        foreach (var (result, count) in snapshot.CursorSaves)
        {
            Add(saves, MetricLabels.Series(snapshot.Source, result), count * sign);
        }

        // grinder_reconcile_runs_total counts every completed account poll, of all sources.
        reconcileRuns += snapshot.Polls * sign;
        Add(recovered, snapshot.Source, snapshot.Recovered * sign);
        Add(mismatches, snapshot.Source, snapshot.AmountMismatches * sign);
        if (snapshot.StreamExpected)
        {
            Add(streamsExpected, snapshot.Source, sign);
            Add(streamsConnected, snapshot.Source, snapshot.StreamConnected ? sign : 0);
        }

        foreach (var (result, count) in snapshot.StreamEvents ?? new Dictionary<string, long>())
        {
            Add(streamEvents, MetricLabels.Series(snapshot.Source, result), count * sign);
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
