using Grinder.Grains.Logging;
using Microsoft.Extensions.Logging;
using Npgsql;

namespace Grinder.Silo.Storage;

/// <summary>
/// Runs <see cref="PostgresSchemaMigrator"/> in the silo lifecycle before any Orleans component reads
/// the database: membership and grain storage load their statements from <c>OrleansQuery</c>, which the
/// migration creates.
/// </summary>
public sealed partial class PostgresSchemaMigrationParticipant(
    string connectionString,
    ILogger<PostgresSchemaMigrationParticipant> logger,
    PostgresSchemaGate? gate = null) : ILifecycleParticipant<ISiloLifecycle>
{
    /// <summary>
    /// Lifecycle stage of the migration: before <see cref="ServiceLifecycleStage.RuntimeInitialize"/>,
    /// so ahead of membership (RuntimeGrainServices) and grain storage (ApplicationServices).
    /// </summary>
    public const int Stage = ServiceLifecycleStage.RuntimeInitialize - 100;

    /// <summary>How long the silo waits for an unreachable database (e.g. a PostgreSQL container still starting).</summary>
    public static readonly TimeSpan WaitForDatabase = TimeSpan.FromSeconds(60);

    /// <inheritdoc />
    public void Participate(ISiloLifecycle lifecycle) =>
        lifecycle.Subscribe(nameof(PostgresSchemaMigrationParticipant), Stage, MigrateAsync);

    private async Task MigrateAsync(CancellationToken cancellationToken)
    {
        var deadline = DateTimeOffset.UtcNow + WaitForDatabase;
        var delay = TimeSpan.FromMilliseconds(500);
        while (true)
        {
            try
            {
                await PostgresSchemaMigrator.MigrateAsync(connectionString, logger, cancellationToken);
                gate?.MarkMigrated();
                return;
            }
            catch (NpgsqlException e) when (e.IsTransient && DateTimeOffset.UtcNow + delay < deadline)
            {
                // Only transient (connection-level) failures are retried; a failing script or a
                // permission error stops the silo at once with the error.
                LogWaitingForDatabase(logger, delay, e.Message);
                await Task.Delay(delay, cancellationToken);
                delay = TimeSpan.FromTicks(Math.Min(delay.Ticks * 2, TimeSpan.FromSeconds(5).Ticks));
            }
        }
    }

    [LoggerMessage(EventId = LogEvents.Storage.SchemaWaitingForDatabase, EventName = "SCHEMA_WAITING_FOR_DATABASE", Level = LogLevel.Warning,
        Message = "PostgreSQL is not reachable for the schema migration, retrying in {Delay}: {Reason}")]
    private static partial void LogWaitingForDatabase(ILogger logger, TimeSpan delay, string reason);
}
