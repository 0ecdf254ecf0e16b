namespace Grinder.Grains;

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
