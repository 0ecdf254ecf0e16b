using Microsoft.Extensions.DependencyInjection;

namespace Grinder.Grains.Placement;

/// <summary>Account placement (<see cref="AccountPlacementStrategy"/>) for every hosting mode.</summary>
public static class PlacementSiloBuilderExtensions
{
    /// <summary>
    /// Registers the account placement director and the membership view the account grains move by. Part of each
    /// hosting mode's cluster setup (<c>UseGrinderLocal</c>, <c>UseGrinderPostgres</c>), next to its clustering:
    /// <c>FillIngestGrain</c> cannot activate without it.
    /// </summary>
    public static ISiloBuilder AddGrinderPlacement(this ISiloBuilder silo)
    {
        silo.AddPlacementDirector<AccountPlacementStrategy, AccountPlacementDirector>();
        silo.Services.AddSingleton<IAccountPlacement, MembershipAccountPlacement>();
        return silo;
    }
}
