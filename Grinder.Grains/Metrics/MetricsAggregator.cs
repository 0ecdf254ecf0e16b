namespace Grinder.Grains.Metrics;

/// <summary>
/// Keeps the newest parts per account and the label-level sums incrementally, so a scrape costs O(series), not O(accounts).
/// Not thread-safe: owned by one grain activation.
/// </summary>
public sealed class MetricsAggregator
{
    /// <summary>Pending parts held per account before the oldest are summed into one.</summary>
    public const int MaxPendingPerAccount = 8;

    private readonly Dictionary<string, AccountSnapshot> _accounts = new(StringComparer.Ordinal);
    private readonly Dictionary<string, List<PendingCounters>> _pending = new(StringComparer.Ordinal);
    private readonly Dictionary<FillSeries, FillTotals> _fills = [];
    private readonly Dictionary<FillSource, long> _polls = [];
    private readonly Dictionary<SourceSeries<ErrorReason>, long> _errors = [];
    private readonly Dictionary<SourceSeries<CursorResult>, long> _loads = [];
    private readonly Dictionary<SourceSeries<CursorResult>, long> _saves = [];
    private readonly Dictionary<FillSource, long> _recovered = [];
    private readonly Dictionary<FillSource, long> _streamsConnected = [];
    private readonly Dictionary<FillSource, long> _streamsExpected = [];
    private readonly Dictionary<SourceSeries<StreamEventResult>, long> _streamEvents = [];
    private readonly Dictionary<FillSource, long> _mismatches = [];
    private long _reconcileRuns;
    private MetricsAggregate? _cached;

    /// <summary>Per account, the newest saved part: counters of its newest saved state, fills of its newest ledger reading, gauges of its newest report.</summary>
    public IReadOnlyDictionary<string, AccountSnapshot> Accounts => _accounts;

    /// <summary>Per account, the pending parts held on top of its saved part (oldest first).</summary>
    public IReadOnlyDictionary<string, List<PendingCounters>> Pending => _pending;

    /// <summary>
    /// Takes what in <paramref name="report"/> is newer than what is held: its saved part when its version is higher, its
    /// fills when the ledger had more rows (rows are only ever added, so the row count orders the readings), and its pending
    /// part when it is a later report of that activation and no held saved state marks it folded. Returns whether anything
    /// was taken. Every counter is then the saved part plus the pending parts: each count is in exactly one of them, so none
    /// is booked twice and nothing has to be reconciled; a pending part leaves only when a saved state holds it.
    /// </summary>
    public bool Apply(AccountSnapshot report)
    {
        ArgumentNullException.ThrowIfNull(report);
        var reported = report.WithCounters(report.Saved);
        var id = report.AccountId;
        var held = _accounts.GetValueOrDefault(id);
        var next = held ?? reported;
        var changed = held is null;
        if (held is not null && reported.Version > held.Version)
        {
            // The newer saved state: its version, counters, last save and fold marks; fills stay the newest reading.
            next = reported with { Fills = next.Fills, Recovered = next.Recovered };
            changed = true;
        }

        if (held is not null && FillCount(reported) > FillCount(held))
        {
            next = next with { Fills = reported.Fills, Recovered = reported.Recovered };
            changed = true;
        }

        var pending = new List<PendingCounters>(_pending.GetValueOrDefault(id) ?? []);
        if (report.Pending is { } part && !part.FoldedIn(next.Folded))
        {
            changed |= Take(pending, part);
        }

        // Folded into the held saved part: counted there now. Empty parts of other activations add nothing.
        changed |= pending.RemoveAll(other => other.FoldedIn(next.Folded)
            || (other.ActivationId != report.Pending?.ActivationId && other.ActivationId.Length > 0 && other.Counters.IsZero)) > 0;
        if (!changed)
        {
            return false;
        }

        Replace(id, next with { Source = report.Source, Polling = report.Polling, StreamConnected = report.StreamConnected, StreamExpected = report.StreamExpected }, pending);
        return true;
    }

    /// <summary>Takes a held pending part of <paramref name="accountId"/> (from a persisted copy) where it is newer and not folded; the account's saved part must be held.</summary>
    public bool ApplyPending(string accountId, PendingCounters part)
    {
        ArgumentNullException.ThrowIfNull(part);
        if (!_accounts.TryGetValue(accountId, out var held) || part.FoldedIn(held.Folded))
        {
            return false;
        }

        var pending = new List<PendingCounters>(_pending.GetValueOrDefault(accountId) ?? []);
        if (!Take(pending, part))
        {
            return false;
        }

        Replace(accountId, held, pending);
        return true;
    }

    // Puts part in place of the one held for its activation when it is a later report of it; a retired part (no
    // activation) already held is never replaced. Returns whether the part was taken.
    private static bool Take(List<PendingCounters> pending, PendingCounters part)
    {
        var index = pending.FindIndex(other => other.ActivationId == part.ActivationId);
        if (index >= 0 && (part.ActivationId.Length == 0 || !part.IsNewerThan(pending[index])))
        {
            return false;
        }

        if (index >= 0)
        {
            pending.RemoveAt(index);
        }

        pending.Add(part);
        return true;
    }

    private void Replace(string accountId, AccountSnapshot next, List<PendingCounters> pending)
    {
        if (_accounts.TryGetValue(accountId, out var held))
        {
            Accumulate(Effective(held, _pending.GetValueOrDefault(accountId)), -1);
        }

        // An account that keeps moving leaves one part per activation that died before its save; past the bound the
        // oldest are summed into one retired part (no activation's fold can ever match it), so nothing counted is lost.
        while (pending.Count > MaxPendingPerAccount)
        {
            var retired = pending.Find(part => part.ActivationId.Length == 0) ?? new PendingCounters(string.Empty, 0, 0, HealthCounters.Zero);
            var oldest = pending.First(part => part.ActivationId.Length > 0);
            pending.Remove(retired);
            pending.Remove(oldest);
            pending.Insert(0, retired with { Counters = retired.Counters.Add(oldest.Counters) });
        }

        _accounts[accountId] = next;
        if (pending.Count > 0)
        {
            _pending[accountId] = pending;
        }
        else
        {
            _pending.Remove(accountId);
        }

        Accumulate(Effective(next, pending), +1);
        _cached = null;
    }

    /// <summary>What the account contributes to the sums: its saved part plus every pending part held for it.</summary>
    private static AccountSnapshot Effective(AccountSnapshot saved, List<PendingCounters>? pending)
    {
        if (pending is not { Count: > 0 })
        {
            return saved;
        }

        var counters = saved.Counted;
        foreach (var part in pending)
        {
            counters = counters.Add(part.Counters);
        }

        return saved.WithCounters(counters);
    }

    private static long FillCount(AccountSnapshot snapshot) => snapshot.Fills.Values.Sum(totals => totals.Count);

    public MetricsAggregate Aggregate()
    {
        if (_cached is not null)
        {
            return _cached;
        }

        var oldest = new Dictionary<FillSource, long>();
        foreach (var account in _accounts.Values)
        {
            if (account.Polling && account.LastSaveUnixMs is { } saved)
            {
                oldest[account.Source] = oldest.TryGetValue(account.Source, out var current) ? Math.Min(current, saved) : saved;
            }
        }

        _cached = new MetricsAggregate(
            new Dictionary<FillSeries, FillTotals>(_fills),
            new Dictionary<FillSource, long>(_polls),
            new Dictionary<SourceSeries<ErrorReason>, long>(_errors),
            new Dictionary<SourceSeries<CursorResult>, long>(_loads),
            new Dictionary<SourceSeries<CursorResult>, long>(_saves),
            oldest,
            _reconcileRuns,
            _accounts.Count,
            new Dictionary<FillSource, long>(_recovered),
            new Dictionary<FillSource, long>(_streamsConnected),
            new Dictionary<FillSource, long>(_streamsExpected),
            new Dictionary<SourceSeries<StreamEventResult>, long>(_streamEvents),
            new Dictionary<FillSource, long>(_mismatches));
        return _cached;
    }

    private void Accumulate(AccountSnapshot snapshot, int sign)
    {
        foreach (var (bucket, totals) in snapshot.Fills)
        {
            var key = new FillSeries(snapshot.Source, bucket);
            var current = _fills.GetValueOrDefault(key, FillTotals.Zero);
            _fills[key] = sign > 0 ? current.Add(totals) : current.Subtract(totals);
        }

        Add(_polls, snapshot.Source, snapshot.Polls * sign);
        foreach (var (reason, count) in snapshot.Errors)
        {
            Add(_errors, new SourceSeries<ErrorReason>(snapshot.Source, reason), count * sign);
        }

        foreach (var (result, count) in snapshot.CursorLoads)
        {
            Add(_loads, new SourceSeries<CursorResult>(snapshot.Source, result), count * sign);
        }

        foreach (var (result, count) in snapshot.CursorSaves)
        {
            Add(_saves, new SourceSeries<CursorResult>(snapshot.Source, result), count * sign);
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

        foreach (var (result, count) in snapshot.StreamEvents ?? new Dictionary<StreamEventResult, long>())
        {
            Add(_streamEvents, new SourceSeries<StreamEventResult>(snapshot.Source, result), count * sign);
        }
    }

    private static void Add<TKey>(Dictionary<TKey, long> target, TKey key, long delta)
        where TKey : notnull =>
        target[key] = target.GetValueOrDefault(key) + delta;
}
