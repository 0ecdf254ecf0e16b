namespace Grinder.Tests.Infrastructure;

/// <summary>Class fixture: one fresh, empty database per test class on the run's shared server.</summary>
public sealed class PostgresDatabaseFixture : IAsyncLifetime
{
    private PostgresDatabase? database;

    /// <summary>The class's database.</summary>
    public PostgresDatabase Database => database ?? throw new InvalidOperationException("The fixture is not initialised.");

    /// <summary>The run's server, for tests that need further databases.</summary>
    public PostgresServer Server { get; private set; } = null!;

    public async Task InitializeAsync()
    {
        Server = await PostgresServer.GetAsync();
        database = await Server.CreateDatabaseAsync();
    }

    public async Task DisposeAsync()
    {
        if (database is not null)
        {
            await database.DisposeAsync();
        }
    }
}
