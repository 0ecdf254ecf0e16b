namespace Grinder.Grains.Ingest;

/// <summary>
/// The health counts of one activation that no saved state holds yet. The grain counts here, never in its state: a save adds
/// these to the stored counters and marks the fold in the same write (<see cref="FillIngestState.FoldedPending"/>), then
/// takes exactly what it wrote out of here, so each count is in one place at any time (saved, or pending in the reports).
/// Not thread-safe: owned by one grain activation.
/// </summary>
public sealed class UnsavedCounts
{
    /// <summary>Fold marks a state keeps: enough for every activation alive at once during a failover, and some.</summary>
    public const int FoldMarks = 8;

    private readonly Dictionary<ErrorReason, long> _errors = [];
    private readonly Dictionary<CursorResult, long> _loads = [];
    private readonly Dictionary<CursorResult, long> _saves = [];
    private readonly Dictionary<StreamEventResult, long> _streamEvents = [];
    private long _polls;
    private long _mismatches;

    /// <summary>Polls counted and not yet saved.</summary>
    public long Polls => _polls;

    public void Poll() => _polls++;

    public void Error(ErrorReason reason, long by = 1) => Add(_errors, reason, by);

    public void Load(CursorResult result, long by = 1) => Add(_loads, result, by);

    public void Save(CursorResult result, long by = 1) => Add(_saves, result, by);

    public void StreamEvent(StreamEventResult result, long by = 1) => Add(_streamEvents, result, by);

    public void Mismatches(long by) => _mismatches += Math.Max(0, by);

    /// <summary>Takes back one error this activation counted that another writer's saved state already counts.</summary>
    public void Uncount(ErrorReason reason)
    {
        if (_errors.GetValueOrDefault(reason) > 0)
        {
            Remove(_errors, new Dictionary<ErrorReason, long> { [reason] = 1 });
        }
    }

    /// <summary>A copy of what is counted now.</summary>
    public HealthCounters Current() => new(
        _polls,
        new Dictionary<ErrorReason, long>(_errors),
        new Dictionary<CursorResult, long>(_loads),
        new Dictionary<CursorResult, long>(_saves),
        new Dictionary<StreamEventResult, long>(_streamEvents),
        _mismatches);

    /// <summary>Takes out <paramref name="written"/>, which a saved state now holds (what was counted meanwhile stays).</summary>
    public void Remove(HealthCounters written)
    {
        ArgumentNullException.ThrowIfNull(written);
        _polls -= written.Polls;
        _mismatches -= written.AmountMismatches;
        Remove(_errors, written.Errors);
        Remove(_loads, written.CursorLoads);
        Remove(_saves, written.CursorSaves);
        Remove(_streamEvents, written.StreamEvents);
    }

    /// <summary>
    /// Writes <paramref name="counts"/> into <paramref name="state"/>'s counters and marks save attempt <paramref name="epoch"/>
    /// of <paramref name="activationId"/> folded (replacing its older mark; the oldest marks beyond <see cref="FoldMarks"/> go).
    /// </summary>
    public static void Fold(FillIngestState state, HealthCounters counts, string activationId, long epoch)
    {
        ArgumentNullException.ThrowIfNull(state);
        ArgumentNullException.ThrowIfNull(counts);
        state.Polls += counts.Polls;
        state.AmountMismatches += counts.AmountMismatches;
        AddAll(state.Errors, counts.Errors);
        AddAll(state.CursorLoads, counts.CursorLoads);
        AddAll(state.CursorSaves, counts.CursorSaves);
        AddAll(state.StreamEvents, counts.StreamEvents);
        state.FoldedPending.RemoveAll(mark => mark.ActivationId == activationId);
        state.FoldedPending.Add(new PendingFold(activationId, epoch));
        if (state.FoldedPending.Count > FoldMarks)
        {
            state.FoldedPending.RemoveRange(0, state.FoldedPending.Count - FoldMarks);
        }
    }

    /// <summary>The counters <paramref name="state"/> holds.</summary>
    public static HealthCounters SavedIn(FillIngestState state)
    {
        ArgumentNullException.ThrowIfNull(state);
        return new HealthCounters(
            state.Polls,
            new Dictionary<ErrorReason, long>(state.Errors),
            new Dictionary<CursorResult, long>(state.CursorLoads),
            new Dictionary<CursorResult, long>(state.CursorSaves),
            new Dictionary<StreamEventResult, long>(state.StreamEvents),
            state.AmountMismatches);
    }

    private static void Add<TLabel>(Dictionary<TLabel, long> counters, TLabel key, long by)
        where TLabel : struct, Enum
    {
        if (by > 0)
        {
            counters[key] = counters.GetValueOrDefault(key) + by;
        }
    }

    private static void AddAll<TLabel>(Dictionary<TLabel, long> target, IReadOnlyDictionary<TLabel, long> counts)
        where TLabel : struct, Enum
    {
        foreach (var (key, value) in counts)
        {
            if (value != 0)
            {
                target[key] = target.GetValueOrDefault(key) + value;
            }
        }
    }

    private static void Remove<TLabel>(Dictionary<TLabel, long> counters, IReadOnlyDictionary<TLabel, long> written)
        where TLabel : struct, Enum
    {
        foreach (var (key, value) in written)
        {
            var left = counters.GetValueOrDefault(key) - value;
            if (left == 0)
            {
                counters.Remove(key);
            }
            else
            {
                counters[key] = left;
            }
        }
    }
}
