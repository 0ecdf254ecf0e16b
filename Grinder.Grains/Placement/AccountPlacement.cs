using Orleans.Placement;
using Orleans.Runtime.Placement;

namespace Grinder.Grains.Placement;

/// <summary>
/// Account grains live on their rendezvous-hash owner among the cluster's silos (<see cref="AccountOwner"/>), so a cluster
/// polls from all its silos (each with its own IP weight budget: Binance counts weight per IP) instead of from whichever silo's keeper
/// pinged first. Registered by the host next to its <see cref="IAccountPlacement"/>.
/// </summary>
[GenerateSerializer, Immutable, SuppressReferenceTracking]
public sealed class AccountPlacementStrategy : PlacementStrategy;

/// <summary>Places the grain class by <see cref="AccountPlacementStrategy"/>.</summary>
[AttributeUsage(AttributeTargets.Class, AllowMultiple = false)]
public sealed class AccountPlacementAttribute() : PlacementAttribute(new AccountPlacementStrategy());

/// <summary>Picks the owner among the silos that can host the grain; a placement hint (a migration target) wins.</summary>
public sealed class AccountPlacementDirector : IPlacementDirector
{
    public Task<SiloAddress> OnAddActivation(PlacementStrategy strategy, PlacementTarget target, IPlacementContext context)
    {
        var silos = context.GetCompatibleSilos(target);
        var owner = IPlacementDirector.GetPlacementHint(target.RequestContextData, silos) ?? AccountOwner.Pick(target.GrainIdentity, silos);
        return Task.FromResult(owner);
    }
}

/// <summary>Which silo an account grain belongs on now, as this silo sees the cluster (implemented by the host from membership).</summary>
public interface IAccountPlacement
{
    /// <summary>The owner of <paramref name="grain"/> among the active silos; null while no silo is known to be active.</summary>
    SiloAddress? OwnerOf(GrainId grain);
}

/// <summary>
/// Rendezvous (highest random weight) hashing: every (grain, silo) pair gets a pseudo-random score and the grain belongs to
/// the silo with the highest. When a silo leaves, only its own grains get a new owner; when one joins, it takes about 1/N
/// of them from the others. Scores use the silo's endpoint, not its generation, so a restarted silo owns what it owned.
/// </summary>
public static class AccountOwner
{
    private const ulong Offset = 14695981039346656037UL;

    /// <summary>The owner of <paramref name="grain"/> among <paramref name="silos"/> (not empty); the same on every silo.</summary>
    public static SiloAddress Pick(GrainId grain, IReadOnlyList<SiloAddress> silos)
    {
        ArgumentOutOfRangeException.ThrowIfZero(silos.Count);
        var grainHash = Fnv1a(Offset, grain.ToString());
        SiloAddress? best = null;
        var bestScore = 0UL;
        foreach (var silo in silos)
        {
            var score = Mix(Fnv1a(grainHash, silo.Endpoint.ToString()));
            if (best is null || score > bestScore || (score == bestScore && silo.CompareTo(best) < 0))
            {
                best = silo;
                bestScore = score;
            }
        }

        return best!;
    }

    // FNV-1a (64 bit) over the UTF-16 code units: string.GetHashCode is randomised per process, and every silo must agree.
    private static ulong Fnv1a(ulong hash, string text)
    {
        foreach (var c in text)
        {
            hash = (hash ^ c) * 1099511628211UL;
        }

        return hash;
    }

    // SplitMix64's finaliser: FNV alone leaves scores of similar strings correlated.
    private static ulong Mix(ulong z)
    {
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
        return z ^ (z >> 31);
    }
}
