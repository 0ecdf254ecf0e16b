using System.Data.Common;
using Grinder.Grains;
using Grinder.Grains.Ledger;
using Grinder.Grains.Placement;
using Grinder.Silo.Ledger;
using Grinder.Silo.Storage;
using Npgsql;

namespace Grinder.Silo.Hosting;

/// <summary>PostgreSQL mode of the silo: clustering, grain storage and schema on one database.</summary>
public static class PostgresHostingExtensions
{
    /// <summary>ADO.NET invariant name of Npgsql, as the Orleans ADO.NET providers expect it.</summary>
    public const string Invariant = "Npgsql";

    /// <summary>
    /// Configures ADO.NET clustering and the <see cref="GrinderStorage.Name"/> grain storage on PostgreSQL,
    /// stores grain state as System.Text.Json so operators can read it with psql, and applies the schema
    /// (<see cref="PostgresSchemaMigrator"/>) in the silo lifecycle before membership or storage start, and registers
    /// the <see cref="PostgresFillLedger"/> on the same database.
    /// The connection string gets <see cref="PostgresConnectionDefaults"/> where it does not set them.
    /// </summary>
    /// <param name="silo">The silo to configure.</param>
    /// <param name="connectionString">Npgsql connection string of the Grinder database.</param>
    /// <exception cref="ArgumentException">The connection string is empty or not a valid Npgsql connection string.</exception>
    public static ISiloBuilder UseGrinderPostgres(this ISiloBuilder silo, string connectionString)
    {
        ArgumentNullException.ThrowIfNull(silo);
        ArgumentException.ThrowIfNullOrWhiteSpace(connectionString);
        try
        {
            connectionString = PostgresConnectionDefaults.Apply(connectionString);
        }
        catch (ArgumentException e)
        {
            // Npgsql's message names the offending keyword only, never a value such as the password.
            throw new ArgumentException($"The PostgreSQL connection string is invalid: {e.Message}", nameof(connectionString), e);
        }

        // The Orleans ADO.NET providers find Npgsql by loading the "Npgsql" assembly themselves; the
        // registration makes the same invariant resolvable through DbProviderFactories for anything else.
        DbProviderFactories.RegisterFactory(Invariant, NpgsqlFactory.Instance);

        // The fill ledger shares the database; it waits on the gate, which opens once this silo's migration
        // (which creates the ledger tables) has succeeded.
        var schema = new PostgresSchemaGate();
        silo.Services.AddSingleton<ILifecycleParticipant<ISiloLifecycle>>(services =>
            new PostgresSchemaMigrationParticipant(
                connectionString, services.GetRequiredService<ILogger<PostgresSchemaMigrationParticipant>>(), schema));
        silo.Services.AddSingleton<IFillLedger>(services =>
            new PostgresFillLedger(connectionString, schema, services.GetRequiredService<ILogger<PostgresFillLedger>>()));
        silo.Services.AddSingleton<ILifecycleParticipant<ISiloLifecycle>>(services => new FillLedgerStartupCheck(services));

        silo.UseAdoNetClustering(options =>
        {
            options.Invariant = Invariant;
            options.ConnectionString = connectionString;
        });
        silo.AddAdoNetGrainStorage(GrinderStorage.Name, options =>
        {
            options.Invariant = Invariant;
            options.ConnectionString = connectionString;
        });
        silo.UseSystemTextJsonGrainStorageSerializer();
        silo.AddGrinderPlacement();
        return silo;
    }
}
