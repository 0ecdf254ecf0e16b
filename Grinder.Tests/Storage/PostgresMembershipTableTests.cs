using System.Net;
using Grinder.Silo.Hosting;
using Grinder.Silo.Storage;
using Grinder.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using Orleans.Configuration;
using Orleans.Runtime.MembershipService;

namespace Grinder.Tests.Storage;

/// <summary>
/// The membership statements under Orleans' own ADO.NET clustering table: a change computed from a
/// stale table version must be refused, or two silos could both win a membership decision.
/// </summary>
public sealed class PostgresMembershipTableTests(PostgresDatabaseFixture fixture) : IClassFixture<PostgresDatabaseFixture>
{
    [Fact]
    public async Task Membership_changes_based_on_a_stale_table_version_are_refused()
    {
        var table = await OpenTableAsync("cluster-stale");
        var empty = await table.ReadAllAsync();
        Assert.Empty(empty.Members);

        var first = Entry(port: 11111, SiloStatus.Joining);
        Assert.True(await table.InsertRowAsync(first, empty.Version.Next()));
        Assert.False(await table.InsertRowAsync(Entry(port: 11112, SiloStatus.Joining), empty.Version.Next()));
        Assert.False(await table.InsertRowAsync(first, (await table.ReadAllAsync()).Version.Next()));

        var afterInsert = await table.ReadAllAsync();
        var (stored, etag) = Assert.Single(afterInsert.Members);
        Assert.Equal(first.SiloAddress, stored.SiloAddress);
        stored.Status = SiloStatus.Active;
        Assert.True(await table.UpdateRowAsync(stored, etag, afterInsert.Version.Next()));
        stored.Status = SiloStatus.Dead;
        Assert.False(await table.UpdateRowAsync(stored, etag, afterInsert.Version.Next()));

        var current = await table.ReadRowAsync(first.SiloAddress);
        Assert.Equal(SiloStatus.Active, Assert.Single(current.Members).Item1.Status);
        Assert.Equal(afterInsert.Version.Version + 1, current.Version.Version);
    }

    [Fact]
    public async Task Heartbeats_keep_the_version_and_dead_silos_are_cleaned_up()
    {
        var table = await OpenTableAsync("cluster-cleanup");
        var silo = Entry(port: 22222, SiloStatus.Active);
        Assert.True(await table.InsertRowAsync(silo, (await table.ReadAllAsync()).Version.Next()));
        var before = await table.ReadAllAsync();

        silo.IAmAliveTime = silo.IAmAliveTime.AddSeconds(30);
        await table.UpdateIAmAliveAsync(silo);

        var afterHeartbeat = await table.ReadRowAsync(silo.SiloAddress);
        Assert.Equal(before.Version.Version, afterHeartbeat.Version.Version);
        Assert.Equal(
            silo.IAmAliveTime.Ticks / TimeSpan.TicksPerMillisecond,
            Assert.Single(afterHeartbeat.Members).Item1.IAmAliveTime.Ticks / TimeSpan.TicksPerMillisecond);

        var (dead, etag) = Assert.Single(afterHeartbeat.Members);
        dead.Status = SiloStatus.Dead;
        Assert.True(await table.UpdateRowAsync(dead, etag, afterHeartbeat.Version.Next()));
        await table.CleanupDefunctSiloEntriesAsync(DateTimeOffset.UtcNow.AddHours(1));

        Assert.Empty((await table.ReadAllAsync()).Members);
    }

    private async Task<AdoNetClusteringTable> OpenTableAsync(string clusterId)
    {
        var connectionString = fixture.Database.ConnectionString;
        await PostgresSchemaMigrator.MigrateAsync(connectionString, NullLogger.Instance, CancellationToken.None);
        var table = new AdoNetClusteringTable(
            new ServiceCollection().BuildServiceProvider(),
            Options.Create(new ClusterOptions { ClusterId = clusterId, ServiceId = "grinder-test" }),
            Options.Create(new AdoNetClusteringSiloOptions
            {
                Invariant = PostgresHostingExtensions.Invariant,
                ConnectionString = connectionString,
            }),
            NullLogger<AdoNetClusteringTable>.Instance);
        await table.InitializeMembershipTableAsync(tryInitTableVersion: true);
        return table;
    }

    private static MembershipEntry Entry(int port, SiloStatus status)
    {
        var now = DateTime.UtcNow;
        return new MembershipEntry
        {
            SiloAddress = SiloAddress.New(IPAddress.Loopback, port, 1),
            SiloName = $"silo-{port}",
            HostName = "test-host",
            Status = status,
            ProxyPort = port + 1,
            StartTime = now,
            IAmAliveTime = now,
        };
    }
}
