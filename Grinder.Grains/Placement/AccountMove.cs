namespace Grinder.Grains.Placement;

/// <summary>
/// Whether an account grain moves to its owner after a tick, or stays. It moves only when the stored state is exactly where
/// the activation stands, so the activation on the owner continues from it. Not while saves fail (the stored position is
/// older than memory: only re-reads, but pointless ones), nor while the monotonic rule keeps a stored position ahead of the
/// one the activation reads from (a position moved by hand: the owner would start from it and skip what lies between).
/// </summary>
public static class AccountMove
{
    /// <summary>The silo to move to, or null to stay.</summary>
    /// <param name="saveFailed">The last save of the account state failed.</param>
    /// <param name="stored">The read positions as stored (null before any state was read).</param>
    /// <param name="working">The read positions in memory.</param>
    /// <param name="owner">The account's owner as this silo sees the cluster (<see cref="IAccountPlacement.OwnerOf"/>).</param>
    /// <param name="here">The silo the activation runs on.</param>
    public static SiloAddress? Target(
        bool saveFailed,
        IReadOnlyDictionary<string, SymbolCursor>? stored,
        IReadOnlyDictionary<string, SymbolCursor> working,
        SiloAddress? owner,
        SiloAddress? here)
    {
        ArgumentNullException.ThrowIfNull(working);
        if (saveFailed || !ContinuesFrom(stored, working) || owner is null || owner.Equals(here))
        {
            return null;
        }

        return owner;
    }

    // After a clean save or an adopted state, every position in memory is the stored one (SymbolCursor is a value record).
    private static bool ContinuesFrom(IReadOnlyDictionary<string, SymbolCursor>? stored, IReadOnlyDictionary<string, SymbolCursor> working) =>
        stored is not null && working.All(pair => stored.TryGetValue(pair.Key, out var cursor) && cursor == pair.Value);
}
