using Grinder.Silo.Hosting;
using Microsoft.Extensions.Configuration;
using Orleans.TestingHost;

namespace Grinder.Tests.Infrastructure;

/// <summary>
/// A two-silo Orleans cluster whose membership and grain storage live in a fresh PostgreSQL database,
/// configured exactly as the production silo (<see cref="PostgresHostingExtensions.UseGrinderPostgres"/>).
/// Classic <see cref="TestCluster"/>: the in-process test cluster cannot use ADO.NET clustering.
/// </summary>
public sealed class PostgresClusterFixture : IAsyncLifetime
{
    private const string ConnectionStringKey = "GrinderTests:Postgres";
    private PostgresDatabase? _database;
    private TestCluster? _cluster;

    public PostgresDatabase Database => _database ?? throw new InvalidOperationException("The fixture is not initialised.");

    public TestCluster Cluster => _cluster ?? throw new InvalidOperationException("The fixture is not initialised.");

    public async Task InitializeAsync()
    {
        _database = await (await PostgresServer.GetAsync()).CreateDatabaseAsync();
        var builder = new TestClusterBuilder(initialSilosCount: 2);
        builder.Options.UseTestClusterMembership = false;
        builder.Properties[ConnectionStringKey] = _database.ConnectionString;
        builder.AddSiloBuilderConfigurator<SiloConfigurator>();
        builder.AddClientBuilderConfigurator<ClientConfigurator>();
        _cluster = builder.Build();
        await _cluster.DeployAsync();
    }

    public async Task DisposeAsync()
    {
        if (_cluster is not null)
        {
            await _cluster.StopAllSilosAsync();
            await _cluster.DisposeAsync();
        }

        if (_database is not null)
        {
            await _database.DisposeAsync();
        }
    }

    private sealed class SiloConfigurator : ISiloConfigurator
    {
        public void Configure(ISiloBuilder siloBuilder) =>
            siloBuilder.UseGrinderPostgres(siloBuilder.Configuration[ConnectionStringKey]!);
    }

    private sealed class ClientConfigurator : IClientBuilderConfigurator
    {
        public void Configure(IConfiguration configuration, IClientBuilder clientBuilder) =>
            clientBuilder.UseAdoNetClustering(options =>
            {
                options.Invariant = PostgresHostingExtensions.Invariant;
                options.ConnectionString = configuration[ConnectionStringKey];
            });
    }
}

/// <summary>Tests sharing one <see cref="PostgresClusterFixture"/> (a 2-silo start costs seconds).</summary>
[CollectionDefinition(Name)]
public sealed class PostgresClusterCollection : ICollectionFixture<PostgresClusterFixture>
{
    public const string Name = "PostgreSQL cluster";
}
