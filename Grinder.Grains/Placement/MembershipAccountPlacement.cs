namespace Grinder.Grains.Placement;

/// <summary><see cref="IAccountPlacement"/> over this silo's view of cluster membership: the silos it sees as active.</summary>
/// <remarks>Every account grain asks after every poll, from many threads at once; the cached view is one immutable object
/// swapped by reference, so a reader sees one membership version's list or another's, never a mix.</remarks>
public sealed class MembershipAccountPlacement(IClusterMembershipService membership) : IAccountPlacement
{
    private volatile View? _view;

    public SiloAddress? OwnerOf(GrainId grain)
    {
        var active = ActiveSilos();
        return active.Length == 0 ? null : AccountOwner.Pick(grain, active);
    }

    // One list per membership snapshot, not one per call.
    private SiloAddress[] ActiveSilos()
    {
        var snapshot = membership.CurrentSnapshot;
        var known = _view;
        if (known is not null && ReferenceEquals(known.Snapshot, snapshot))
        {
            return known.Active;
        }

        var active = snapshot.Members.Values.Where(member => member.Status == SiloStatus.Active).Select(member => member.SiloAddress).ToArray();
        _view = new View(snapshot, active);
        return active;
    }

    private sealed record View(ClusterMembershipSnapshot Snapshot, SiloAddress[] Active);
}
