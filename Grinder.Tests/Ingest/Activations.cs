using Grinder.Grains;
using Grinder.Grains.Ingest;
using Grinder.Grains.Placement;
using Grinder.Tests.Infrastructure;
using Orleans.Runtime;
using Orleans.TestingHost;

namespace Grinder.Tests.Ingest;

/// <summary>Where account grains and the metrics grain are activated, read from the grain directory: a lookup activates nothing.</summary>
public static class Activations
{
    /// <summary>The silo each account of <paramref name="accounts"/> is activated on now (null: not activated).</summary>
    public static async Task<Dictionary<string, SiloAddress?>> OfAccountsAsync(IGrainFactory grains, IEnumerable<string> accounts)
    {
        var management = grains.GetGrain<IManagementGrain>(0);
        var placed = new Dictionary<string, SiloAddress?>(StringComparer.Ordinal);
        foreach (var account in accounts)
        {
            placed[account] = await management.GetActivationAddress(grains.GetGrain<IFillIngestGrain>(ConfiguredAccount.GrainKeyFor(account)));
        }

        return placed;
    }

    /// <summary>The silo the metrics grain is activated on now (null: not activated).</summary>
    public static ValueTask<SiloAddress?> OfMetricsGrainAsync(IGrainFactory grains) =>
        grains.GetGrain<IManagementGrain>(0).GetActivationAddress(grains.GetGrain<IFillMetricsGrain>(0));

    /// <summary>Waits until every account is active on its owner among the active silos and has saved a poll there.</summary>
    public static async Task<Dictionary<string, SiloAddress>> OnTheirOwnersAsync(TestCluster cluster, IReadOnlyCollection<string> accounts, TimeSpan timeout, string what)
    {
        var placed = await Eventually.ReturnsAsync(
            async () =>
            {
                var silos = cluster.GetActiveSilos().Select(silo => silo.SiloAddress).ToList();
                var where = await OfAccountsAsync(cluster.Client, accounts);
                return where.All(pair => pair.Value is { } address && address.Equals(AccountOwner.Pick(GrainOf(cluster, pair.Key), silos)))
                    ? where.ToDictionary(pair => pair.Key, pair => pair.Value!, StringComparer.Ordinal)
                    : null;
            },
            placed => placed is not null,
            timeout,
            what);

        // And polling there: the next saved poll comes from the activation on the owner.
        await Task.WhenAll(accounts.Select(account => IngestExpectations.PollsAsync(cluster.Client.GetGrain<IFillIngestGrain>(ConfiguredAccount.GrainKeyFor(account)), 1)));
        return placed!;
    }

    private static GrainId GrainOf(TestCluster cluster, string account) =>
        cluster.Client.GetGrain<IFillIngestGrain>(ConfiguredAccount.GrainKeyFor(account)).GetGrainId();
}
