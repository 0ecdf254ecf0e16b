namespace Grinder.Grains;

/// <summary>
/// An account's health counters (not its fills, which the ledger counts): polls, errors by reason, state loads and saves by
/// result, stream events by result, amount mismatches. Either the counters of one saved state or the increments of one
/// activation that no saved state holds yet (<see cref="PendingCounters"/>).
/// </summary>
[GenerateSerializer, Immutable]
public sealed record HealthCounters(
    [property: Id(0)] long Polls,
    [property: Id(1)] IReadOnlyDictionary<string, long> Errors,
    [property: Id(2)] IReadOnlyDictionary<string, long> CursorLoads,
    [property: Id(3)] IReadOnlyDictionary<string, long> CursorSaves,
    [property: Id(4)] IReadOnlyDictionary<string, long> StreamEvents,
    [property: Id(5)] long AmountMismatches)
{
    private static readonly IReadOnlyDictionary<string, long> Empty = new Dictionary<string, long>(StringComparer.Ordinal);

    public static HealthCounters Zero { get; } = new(0, Empty, Empty, Empty, Empty, 0);

    /// <summary>Nothing counted.</summary>
    public bool IsZero => Polls == 0 && AmountMismatches == 0
        && Errors.Values.All(n => n == 0) && CursorLoads.Values.All(n => n == 0) && CursorSaves.Values.All(n => n == 0) && StreamEvents.Values.All(n => n == 0);

    public HealthCounters Add(HealthCounters other) => Combine(other, +1);

    public HealthCounters Subtract(HealthCounters other) => Combine(other, -1);

    private HealthCounters Combine(HealthCounters other, int sign) => new(
        Polls + (sign * other.Polls),
        Combine(Errors, other.Errors, sign),
        Combine(CursorLoads, other.CursorLoads, sign),
        Combine(CursorSaves, other.CursorSaves, sign),
        Combine(StreamEvents, other.StreamEvents, sign),
        AmountMismatches + (sign * other.AmountMismatches));

    private static Dictionary<string, long> Combine(IReadOnlyDictionary<string, long> left, IReadOnlyDictionary<string, long> right, int sign)
    {
        var sum = new Dictionary<string, long>(left, StringComparer.Ordinal);
        foreach (var (key, value) in right)
        {
            sum[key] = sum.GetValueOrDefault(key) + (sign * value);
        }

        return sum;
    }
}

/// <summary>
/// What one activation of an account counted that no saved state holds yet: a poll before its save, a save that failed, a
/// state load that failed. Each of those is counted here, and only here, until a save of that activation carries it into the
/// stored counters and marks the fold (<see cref="PendingFold"/>) in the same write.
/// </summary>
/// <param name="ActivationId">Random per activation; never a secret or an account id.</param>
/// <param name="Epoch">The number the activation's next save attempt will carry: a fold mark of at least this covers every increment here.</param>
/// <param name="Sequence">Grows with every report of the activation: a later report of the same epoch replaces an earlier one.</param>
[GenerateSerializer, Immutable]
public sealed record PendingCounters(
    [property: Id(0)] string ActivationId,
    [property: Id(1)] long Epoch,
    [property: Id(2)] long Sequence,
    [property: Id(3)] HealthCounters Counters)
{
    /// <summary>Whether <paramref name="folds"/> (a saved state's marks) say this activation's save carried these counts.</summary>
    public bool FoldedIn(IReadOnlyList<PendingFold>? folds) =>
        folds?.Any(fold => fold.ActivationId == ActivationId && fold.Epoch >= Epoch) == true;

    /// <summary>Whether this report is newer than <paramref name="other"/> of the same activation.</summary>
    public bool IsNewerThan(PendingCounters other) => (Epoch, Sequence).CompareTo((other.Epoch, other.Sequence)) > 0;
}

/// <summary>A saved state's mark that save attempt <paramref name="Epoch"/> of activation <paramref name="ActivationId"/> carried its pending counts.</summary>
[GenerateSerializer, Immutable]
public sealed record PendingFold(
    [property: Id(0)] string ActivationId,
    [property: Id(1)] long Epoch);
