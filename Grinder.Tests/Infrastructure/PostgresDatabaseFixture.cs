namespace Grinder.Tests.Infrastructure;

/// <summary>Class fixture: one fresh, empty database per test class on the run's shared server.</summary>
public sealed class PostgresDatabaseFixture : IAsyncLifetime
{
    private PostgresDatabase? _database;

    /// <summary>The class's database.</summary>
    public PostgresDatabase Database => _database ?? throw new InvalidOperationException("The fixture is not initialised.");

    /// <summary>The run's server, for tests that need further databases.</summary>
    public PostgresServer Server { get; private set; } = null!;

    public async Task InitializeAsync()
    {
        Server = await PostgresServer.GetAsync();
        _database = await Server.CreateDatabaseAsync();
    }

    public async Task DisposeAsync()
    {
        if (_database is not null)
        {
            await _database.DisposeAsync();
        }
    }
}
