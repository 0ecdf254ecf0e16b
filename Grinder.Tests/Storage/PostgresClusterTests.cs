using Grinder.Grains;
using Grinder.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;
using Npgsql;
using Orleans.Storage;
using Orleans.TestingHost;

namespace Grinder.Tests.Storage;

[Collection(PostgresClusterCollection.Name)]
public sealed class PostgresClusterTests(PostgresClusterFixture fixture)
{
    // Bounds every cluster operation so a hang fails the test instead of stalling the run.
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(60);

    private TestCluster Cluster => fixture.Cluster;

    private PostgresDatabase Database => fixture.Database;

    [Fact]
    public async Task Membership_table_lists_every_running_silo_as_active()
    {
        var running = Cluster.GetActiveSilos()
            .Select(s => (s.SiloAddress.Endpoint.Port, s.SiloAddress.Generation))
            .Order()
            .ToArray();

        var active = await Database.QueryAsync(
            "SELECT port, generation FROM grinder_cluster_members WHERE cluster_id = @cluster AND status = 'Active'",
            ("cluster", Cluster.Options.ClusterId));

        Assert.Equal(2, running.Length);
        Assert.Equal(running, active.Select(r => ((int)r[0]!, (int)r[1]!)).Order());
    }

    [Fact]
    public async Task Grain_state_survives_a_restart_of_every_silo()
    {
        var saved = SampleState("acct-restart");
        await Cluster.GrainFactory.GetGrain<IPostgresProbeGrain>("acct-restart").SaveAsync(saved).WaitAsync(Patience);

        foreach (var silo in Cluster.Silos.ToArray())
        {
            await Cluster.RestartSiloAsync(silo).WaitAsync(Patience);
        }

        var loaded = await Cluster.GrainFactory.GetGrain<IPostgresProbeGrain>("acct-restart").GetAsync().WaitAsync(Patience);
        AssertSameState(saved, loaded);
    }

    [Fact]
    public async Task State_written_through_one_silo_is_read_through_the_other_after_it_stops()
    {
        var grain = Cluster.GrainFactory.GetGrain<IPostgresProbeGrain>("acct-failover");
        var saved = SampleState("acct-failover");
        await grain.SaveAsync(saved).WaitAsync(Patience);
        var writer = await grain.GetSiloAsync().WaitAsync(Patience);
        var writerSilo = Cluster.Silos.Single(s => s.SiloAddress.ToString() == writer);

        await Cluster.StopSiloAsync(writerSilo).WaitAsync(Patience);
        try
        {
            var loaded = await grain.GetAsync().WaitAsync(Patience);
            var reader = await grain.GetSiloAsync().WaitAsync(Patience);

            Assert.NotEqual(writer, reader);
            AssertSameState(saved, loaded);
        }
        finally
        {
            await Cluster.StartAdditionalSiloAsync().WaitAsync(Patience);
        }
    }

    [Fact]
    public async Task An_operator_reads_the_state_as_json_with_plain_sql()
    {
        await Cluster.GrainFactory.GetGrain<IPostgresProbeGrain>("acct-psql").SaveAsync(SampleState("acct-psql")).WaitAsync(Patience);

        // The query documented for operators (infra/postgres/README.md).
        var row = Assert.Single(await Database.QueryAsync(
            """
            SELECT state->>'Account', (state->>'LastTradeId')::bigint, (state->>'Notional')::numeric,
                   (state->'Cursors'->>'ETHUSDT')::bigint, version
              FROM grinder_grain_state_json
             WHERE grain_key = 'acct-psql'
            """));

        Assert.Equal("acct-psql", row[0]);
        Assert.Equal(9_000_000_123L, row[1]);
        Assert.Equal(12345.678901m, row[2]);
        Assert.Equal(77L, row[3]);
        Assert.Equal(1, row[4]);
    }

    [Fact]
    public async Task A_stale_writer_gets_an_etag_conflict_and_the_stored_state_is_kept()
    {
        var (storage, grainId) = StorageFor("acct-etag");
        await storage.WriteStateAsync(ProbeType, grainId, new GrainState<PostgresProbeState>(SampleState("v1")));
        var winner = await ReadAsync(storage, grainId);
        var loser = await ReadAsync(storage, grainId);
        Assert.Equal("1", loser.ETag);

        winner.State = SampleState("winner");
        await storage.WriteStateAsync(ProbeType, grainId, winner);
        loser.State = SampleState("loser");
        await Assert.ThrowsAsync<InconsistentStateException>(() => storage.WriteStateAsync(ProbeType, grainId, loser));
        await Assert.ThrowsAsync<InconsistentStateException>(() => storage.ClearStateAsync(ProbeType, grainId, loser));

        // A second "first write" (an activation that saw no state) must not overwrite either.
        var latecomer = new GrainState<PostgresProbeState>(SampleState("latecomer"));
        await Assert.ThrowsAsync<InconsistentStateException>(() => storage.WriteStateAsync(ProbeType, grainId, latecomer));

        var stored = await ReadAsync(storage, grainId);
        Assert.Equal("winner", stored.State!.Account);
        Assert.Equal("2", stored.ETag);
    }

    [Fact]
    public async Task A_cleared_state_reads_as_absent_and_keeps_counting_versions()
    {
        var (storage, grainId) = StorageFor("acct-clear");
        var state = new GrainState<PostgresProbeState>(SampleState("to-clear"));
        await storage.WriteStateAsync(ProbeType, grainId, state);

        await storage.ClearStateAsync(ProbeType, grainId, state);

        var read = await ReadAsync(storage, grainId);
        Assert.False(read.RecordExists);
        Assert.Equal("", read.State!.Account);
        Assert.Equal("2", read.ETag);
        await Assert.ThrowsAsync<InconsistentStateException>(() =>
            storage.WriteStateAsync(ProbeType, grainId, new GrainState<PostgresProbeState>(SampleState("stale"))));
    }

    [Fact]
    public async Task Storage_errors_surface_while_privileges_are_revoked_and_writes_resume_after_grant()
    {
        var (storage, grainId) = StorageFor("acct-outage");
        var state = new GrainState<PostgresProbeState>(SampleState("before"));
        await storage.WriteStateAsync(ProbeType, grainId, state);

        await Database.RevokeGrainStorageAsync();
        try
        {
            state.State = SampleState("during");
            var error = await Assert.ThrowsAsync<PostgresException>(() => storage.WriteStateAsync(ProbeType, grainId, state));
            Assert.Equal(PostgresErrorCodes.InsufficientPrivilege, error.SqlState);
            Assert.Equal("1", state.ETag);
        }
        finally
        {
            await Database.GrantGrainStorageAsync();
        }

        await storage.WriteStateAsync(ProbeType, grainId, state);
        var stored = await ReadAsync(storage, grainId);
        Assert.Equal("during", stored.State!.Account);
        Assert.Equal("2", stored.ETag);
    }

    private const string ProbeType = "grinder-test-probe";

    private (IGrainStorage Storage, GrainId GrainId) StorageFor(string key)
    {
        var services = Cluster.GetSiloServiceProvider(Cluster.GetActiveSilos().First().SiloAddress);
        return (services.GetRequiredKeyedService<IGrainStorage>(GrinderStorage.Name), GrainId.Create("probe", key));
    }

    private static async Task<GrainState<PostgresProbeState>> ReadAsync(IGrainStorage storage, GrainId grainId)
    {
        var state = new GrainState<PostgresProbeState>(new PostgresProbeState());
        await storage.ReadStateAsync(ProbeType, grainId, state);
        return state;
    }

    private static PostgresProbeState SampleState(string account) => new()
    {
        Account = account,
        LastTradeId = 9_000_000_123L,
        Notional = 12345.678901m,
        Cursors = new() { ["BTCUSDT"] = 42, ["ETHUSDT"] = 77 },
    };

    private static void AssertSameState(PostgresProbeState expected, PostgresProbeState actual)
    {
        Assert.Equal(expected.Account, actual.Account);
        Assert.Equal(expected.LastTradeId, actual.LastTradeId);
        Assert.Equal(expected.Notional, actual.Notional);
        Assert.Equal(expected.Cursors.OrderBy(c => c.Key), actual.Cursors.OrderBy(c => c.Key));
    }
}
