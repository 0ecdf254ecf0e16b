using System.Globalization;
using Grinder.FakeBinance;
using Grinder.Grains;
using Grinder.Grains.Ingest;
using Grinder.Grains.Placement;
using Grinder.Tests.Infrastructure;
using Orleans.Runtime;
using Orleans.TestingHost;
using Xunit.Abstractions;
using static Grinder.Tests.Ingest.IngestExpectations;

namespace Grinder.Tests.Ingest;

/// <summary>
/// Account grains live on their rendezvous owner (<see cref="AccountOwner"/>): a silo that joins takes its share of the
/// accounts, the accounts of a silo that dies go to the survivors, and none of the moves loses or double-counts a fill.
/// Own cluster on PostgreSQL (it starts with one silo), fills arriving all the time.
/// </summary>
public sealed class AccountPlacementTests(ITestOutputHelper output)
{
    private readonly System.Diagnostics.Stopwatch _clock = System.Diagnostics.Stopwatch.StartNew();

    private const int Accounts = 20;
    private static readonly TimeSpan Settle = TimeSpan.FromSeconds(90);

    [Fact]
    public async Task A_joining_silo_takes_its_share_a_dead_one_hands_its_accounts_over_and_every_fill_counts_once()
    {
        var names = Enumerable.Range(0, Accounts).Select(i => "pl-" + i.ToString("00", CultureInfo.InvariantCulture)).ToList();
        await using var exchange = await FakeExchange.StartAsync(new FakeExchangeOptions { WeightLimitPerMinute = 1_000_000 });
        foreach (var name in names)
        {
            exchange.AddAccount(IngestClusterFixture.KeyOf(name), IngestClusterFixture.SecretOf(name));
        }

        await using var database = await (await PostgresServer.GetAsync()).CreateDatabaseAsync();
        var cluster = await IngestClusterFixture.StartClusterAsync(database.ConnectionString, "placement-" + Guid.NewGuid().ToString("N")[..8], silos: 1, exchange.BaseUrl, names);
        var generators = new List<FakeTradeGenerator>();
        try
        {
            var grains = names.ToDictionary(name => name, name => cluster.Client.GetGrain<IFillIngestGrain>(ConfiguredAccount.GrainKeyFor(name)));
            foreach (var (name, index) in names.Select((name, index) => (name, index)))
            {
                generators.Add(exchange.StartGenerator(IngestClusterFixture.KeyOf(name), IngestClusterFixture.Symbols, TimeSpan.FromMilliseconds(400), 1, seed: 100 + index, selfTradePairFraction: 0.1));
            }

            Say("// One silo: everything is there.");
            // One silo: everything is there.
            await OnTheirOwnersAsync(cluster, grains, "every account on the only silo");

            Say("// A second silo joins: the accounts it ");
            // A second silo joins: the accounts it owns move to it.
            await cluster.StartAdditionalSiloAsync();
            var spread = await OnTheirOwnersAsync(cluster, grains, "every account on its owner of two silos");
            Assert.All(cluster.GetActiveSilos(), silo => Assert.Contains(silo.SiloAddress, spread.Values));

            Say("// The first silo dies: its accounts go ");
            // The first silo dies: its accounts go to the survivor, which already owned the others.
            var victim = cluster.Silos[0];
            var moved = spread.Where(pair => pair.Value.Equals(victim.SiloAddress)).Select(pair => pair.Key).ToList();
            Assert.NotEmpty(moved);
            await cluster.KillSiloAsync(victim);
            var survivor = cluster.GetActiveSilos().Single().SiloAddress;
            var after = await OnTheirOwnersAsync(cluster, grains, "every account on the survivor");
            Assert.All(after.Values, address => Assert.Equal(survivor, address));

            Say("// Fills kept arriving through both move");
            // Fills kept arriving through both moves: each account counted exactly what the exchange served.
            foreach (var generator in generators)
            {
                await generator.DisposeAsync();
            }

            generators.Clear();
            await Task.WhenAll(grains.Select(async pair =>
            {
                var (name, grain) = pair;
                var served = IngestClusterFixture.Symbols.SelectMany(symbol => exchange.Trades(IngestClusterFixture.KeyOf(name), symbol)).ToList();
                var counted = await Eventually.ReturnsAsync(grain.GetSnapshotAsync, snapshot => Count(snapshot) >= served.Count, Settle, $"{name} to count its {served.Count} fills");
                var settled = await PollsAsync(grain, 2);
                IngestExpectations.Equal(Totals(served), settled.Fills);
                Assert.Equal(Count(counted), Count(settled));
                await LedgerEqualsExchangeAsync(IngestClusterFixture.LedgerOf(cluster), name, exchange, IngestClusterFixture.KeyOf(name));
            }));

            Say("Assert.Empty(exchange.WriteAttempts);");
            Assert.Empty(exchange.WriteAttempts);
        }
        finally
        {
            foreach (var generator in generators)
            {
                await generator.DisposeAsync();
            }

            await cluster.StopAllSilosAsync();
            await cluster.DisposeAsync();
        }
    }

    [Fact]
    public async Task An_account_whose_stored_cursor_was_moved_ahead_by_hand_stays_where_it_reads_from()
    {
        // Half the accounts get their stored cursor moved far ahead (the runbook's operator mistake): the monotonic rule
        // keeps it there while the account reads on from its real position. Moving such an account would make its owner
        // start from the moved cursor and skip fills, so it must stay; the other half moves as usual.
        var names = Enumerable.Range(0, 2 * Accounts).Select(i => "ph-" + i.ToString("00", CultureInfo.InvariantCulture)).ToList();
        var edited = names.Where((_, index) => index % 2 == 0).ToHashSet();
        await using var exchange = await FakeExchange.StartAsync(new FakeExchangeOptions { WeightLimitPerMinute = 1_000_000 });
        foreach (var name in names)
        {
            exchange.AddAccount(IngestClusterFixture.KeyOf(name), IngestClusterFixture.SecretOf(name));
        }

        await using var database = await (await PostgresServer.GetAsync()).CreateDatabaseAsync();
        var cluster = await IngestClusterFixture.StartClusterAsync(database.ConnectionString, "held-" + Guid.NewGuid().ToString("N")[..8], silos: 1, exchange.BaseUrl, names);
        try
        {
            var grains = names.ToDictionary(name => name, name => cluster.Client.GetGrain<IFillIngestGrain>(ConfiguredAccount.GrainKeyFor(name)));
            void Trade(int seed)
            {
                foreach (var name in names)
                {
                    exchange.GenerateTrades(IngestClusterFixture.KeyOf(name), "BTCUSDT", 3, seed + names.IndexOf(name), 0.2, DateTimeOffset.UtcNow.ToUnixTimeMilliseconds());
                }
            }

            Trade(seed: 500);
            await Task.WhenAll(grains.Values.Select(grain => CountedAsync(grain, 3)));
            var first = cluster.Silos[0].SiloAddress;
            await database.QueryAsync(
                """
                UPDATE grinder_grain_state
                   SET payload = convert_to(jsonb_set(convert_from(payload, 'UTF8')::jsonb, '{Symbols,BTCUSDT,LastTradeId}', to_jsonb(9000000000::bigint))::text, 'UTF8')
                 WHERE grain_type = 'ingest' AND grain_id_ext = ANY(@keys)
                """,
                ("keys", edited.Select(ConfiguredAccount.GrainKeyFor).ToArray()));
            await Task.WhenAll(edited.Select(name => Eventually.ReturnsAsync(
                grains[name].GetSnapshotAsync, snapshot => Saves(snapshot, CursorResult.RejectedNonMonotonic) >= 1, Settle, $"{name} to reject the moved cursor")));

            await cluster.StartAdditionalSiloAsync();
            var silos = cluster.GetActiveSilos().Select(silo => silo.SiloAddress).ToList();
            var movers = grains.Where(pair => !edited.Contains(pair.Key)).ToDictionary();
            await OnTheirOwnersAsync(cluster, movers, "every untouched account on its owner of two silos");

            // The first silo sees the second (its untouched accounts moved); two more ticks of every held account later,
            // those owned by the new silo are still where they read from.
            await Task.WhenAll(edited.Select(name => PollsAsync(grains[name], 2)));
            var management = cluster.Client.GetGrain<IManagementGrain>(0);
            var heldElsewhere = edited.Where(name => !AccountOwner.Pick(grains[name].GetGrainId(), silos).Equals(first)).ToList();
            Assert.NotEmpty(heldElsewhere);
            foreach (var name in heldElsewhere)
            {
                Assert.Equal(first, await management.GetActivationAddress(grains[name]));
            }

            // Everyone keeps counting exactly once.
            Trade(seed: 900);
            await Task.WhenAll(grains.Select(async pair =>
            {
                var served = IngestClusterFixture.Symbols.SelectMany(symbol => exchange.Trades(IngestClusterFixture.KeyOf(pair.Key), symbol)).ToList();
                await CountedAsync(pair.Value, served.Count, Settle);
                IngestExpectations.Equal(Totals(served), (await PollsAsync(pair.Value, 1)).Fills);
            }));
        }
        finally
        {
            await cluster.StopAllSilosAsync();
            await cluster.DisposeAsync();
        }
    }

    private void Say(string what) => output.WriteLine(string.Create(CultureInfo.InvariantCulture, $"[{_clock.Elapsed.TotalSeconds,5:0.0}s] {what}"));

    private static Task<Dictionary<string, SiloAddress>> OnTheirOwnersAsync(TestCluster cluster, IReadOnlyDictionary<string, IFillIngestGrain> grains, string what) =>
        Activations.OnTheirOwnersAsync(cluster, [.. grains.Keys], Settle, what);
}
