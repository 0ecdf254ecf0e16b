using Grinder.Silo.Storage;
using Grinder.Tests.Infrastructure;
using Microsoft.Extensions.Logging.Abstractions;

namespace Grinder.Tests.Ledger;

/// <summary>Class fixture: a fresh database on the run's PostgreSQL server with the silo's schema applied, as a silo leaves it at start.</summary>
public sealed class LedgerPostgresFixture : IAsyncLifetime
{
    private PostgresDatabase? database;

    public PostgresDatabase Database => database ?? throw new InvalidOperationException("The fixture is not initialised.");

    public async Task InitializeAsync()
    {
        // No PostgreSQL on the machine fails here, loudly, with the install hint of PostgresServer.
        var server = await PostgresServer.GetAsync();
        database = await server.CreateDatabaseAsync();
        await PostgresSchemaMigrator.MigrateAsync(database.ConnectionString, NullLogger.Instance, CancellationToken.None);
    }

    public async Task DisposeAsync()
    {
        if (database is not null)
        {
            await database.DisposeAsync();
        }
    }
}
