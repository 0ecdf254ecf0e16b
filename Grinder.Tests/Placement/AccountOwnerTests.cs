using System.Net;
using Grinder.Grains.Placement;

namespace Grinder.Tests.Placement;

/// <summary>Rendezvous hashing, without a cluster.</summary>
public sealed class AccountOwnerTests
{
    private static readonly SiloAddress[] Silos = [.. Enumerable.Range(0, 4).Select(i => SiloAddress.New(IPAddress.Loopback, 11111 + i, 1))];

    private static readonly GrainId[] Grains = [.. Enumerable.Range(0, 400).Select(i => GrainId.Create("fillingest", $"acct-{i}"))];

    [Fact]
    public void The_owner_depends_on_neither_the_order_of_the_silos_nor_their_generation()
    {
        SiloAddress[] restarted = [.. Silos.Reverse().Select(silo => SiloAddress.New(silo.Endpoint, silo.Generation + 7))];

        foreach (var grain in Grains)
        {
            Assert.Equal(AccountOwner.Pick(grain, Silos).Endpoint, AccountOwner.Pick(grain, restarted).Endpoint);
        }
    }

    [Fact]
    public void A_silo_that_leaves_hands_on_only_its_own_grains()
    {
        var gone = Silos[1];
        SiloAddress[] rest = [.. Silos.Where(silo => !silo.Equals(gone))];

        var moved = 0;
        foreach (var grain in Grains)
        {
            var before = AccountOwner.Pick(grain, Silos);
            var after = AccountOwner.Pick(grain, rest);
            if (before.Equals(gone))
            {
                moved++;
            }
            else
            {
                Assert.Equal(before, after);
            }
        }

        // Each silo owns about a quarter of the grains.
        Assert.InRange(moved, 50, 150);
    }
}
