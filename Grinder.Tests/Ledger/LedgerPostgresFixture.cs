using Grinder.Silo.Storage;
using Grinder.Tests.Infrastructure;
using Microsoft.Extensions.Logging.Abstractions;

namespace Grinder.Tests.Ledger;

/// <summary>Class fixture: a fresh database on the run's PostgreSQL server with the silo's schema applied, as a silo leaves it at start.</summary>
public sealed class LedgerPostgresFixture : IAsyncLifetime
{
    private PostgresDatabase? _database;

    public PostgresDatabase Database => _database ?? throw new InvalidOperationException("The fixture is not initialised.");

    public async Task InitializeAsync()
    {
        // No PostgreSQL on the machine fails here, loudly, with the install hint of PostgresServer.
        var server = await PostgresServer.GetAsync();
        _database = await server.CreateDatabaseAsync();
        await PostgresSchemaMigrator.MigrateAsync(_database.ConnectionString, NullLogger.Instance, CancellationToken.None);
    }

    public async Task DisposeAsync()
    {
        if (_database is not null)
        {
            await _database.DisposeAsync();
        }
    }
}
