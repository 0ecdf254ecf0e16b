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
    private PostgresDatabase? database;
    private TestCluster? cluster;

    public PostgresDatabase Database => database ?? throw new InvalidOperationException("The fixture is not initialised.");

    public TestCluster Cluster => cluster ?? throw new InvalidOperationException("The fixture is not initialised.");

    public async Task InitializeAsync()
    {
        database = await (await PostgresServer.GetAsync()).CreateDatabaseAsync();
        var builder = new TestClusterBuilder(initialSilosCount: 2);
        builder.Options.UseTestClusterMembership = false;
        builder.Properties[ConnectionStringKey] = database.ConnectionString;
        builder.AddSiloBuilderConfigurator<SiloConfigurator>();
        builder.AddClientBuilderConfigurator<ClientConfigurator>();
        cluster = builder.Build();
        await cluster.DeployAsync();
    }

    public async Task DisposeAsync()
    {
        if (cluster is not null)
        {
            await cluster.StopAllSilosAsync();
            await cluster.DisposeAsync();
        }

        if (database is not null)
        {
            await database.DisposeAsync();
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
