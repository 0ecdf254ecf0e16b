using Grinder.Grains.Ingest;

namespace Grinder.Silo.Hosting;

/// <summary>Account placement (<see cref="AccountPlacementStrategy"/>) for every hosting mode.</summary>
public static class PlacementHostingExtensions
{
    /// <summary>Registers the account placement director and the membership view the account grains move by.</summary>
    public static ISiloBuilder AddGrinderPlacement(this ISiloBuilder silo)
    {
        silo.AddPlacementDirector<AccountPlacementStrategy, AccountPlacementDirector>();
        silo.Services.AddSingleton<IAccountPlacement, MembershipAccountPlacement>();
        return silo;
    }
}

/// <summary><see cref="IAccountPlacement"/> over this silo's view of cluster membership: the silos it sees as active.</summary>
public sealed class MembershipAccountPlacement(IClusterMembershipService membership) : IAccountPlacement
{
    private (ClusterMembershipSnapshot Snapshot, SiloAddress[] Active)? view;

    public SiloAddress? OwnerOf(GrainId grain)
    {
        var active = ActiveSilos();
        return active.Length == 0 ? null : AccountOwner.Pick(grain, active);
    }

    // One list per membership version, not one per call: every account asks after every poll.
    private SiloAddress[] ActiveSilos()
    {
        var snapshot = membership.CurrentSnapshot;
        if (view is { } known && ReferenceEquals(known.Snapshot, snapshot))
        {
            return known.Active;
        }

        var active = snapshot.Members.Values.Where(member => member.Status == SiloStatus.Active).Select(member => member.SiloAddress).ToArray();
        view = (snapshot, active);
        return active;
    }
}
