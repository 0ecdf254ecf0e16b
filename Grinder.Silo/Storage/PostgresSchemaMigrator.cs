using Grinder.Grains.Logging;
using Microsoft.Extensions.Logging;
using Npgsql;

namespace Grinder.Silo.Storage;

/// <summary>
/// Applies the numbered schema scripts (<c>infra/postgres/NNN_*.sql</c>) that a database does not have yet.
/// </summary>
/// <remarks>
/// All pending scripts run in one transaction that first takes a transaction-scoped advisory lock, so
/// silos starting together queue instead of racing: the first applies the scripts, the others then
/// find them recorded in <c>grinder_schema_migrations</c> and do nothing. A failing script rolls the
/// whole run back. A script that was applied and later edited is refused: schema changes go into a
/// new numbered file.
/// </remarks>
public sealed partial class PostgresSchemaMigrator
{
    /// <summary>Advisory lock key shared by every Grinder silo ("grinder" in ASCII).</summary>
    public const long AdvisoryLockKey = 0x0067_7269_6E64_6572;

    /// <summary>Oldest PostgreSQL major version the schema supports.</summary>
    public const int MinimumServerMajorVersion = 15;

    // Waiting for another silo's run and creating indexes on a large table can exceed Npgsql's 30 s default.
    private const int CommandTimeoutSeconds = 300;

    private PostgresSchemaMigrator()
    {
    }

    /// <summary>Brings the database up to the schema embedded in this build.</summary>
    /// <param name="connectionString">Connection string of the Grinder database (the role needs CREATE there).</param>
    /// <param name="logger">Receives one line per applied script, or one line saying the schema is current.</param>
    /// <param name="cancellationToken">Cancels the run; the transaction is rolled back.</param>
    public static Task MigrateAsync(string connectionString, ILogger logger, CancellationToken cancellationToken) =>
        MigrateAsync(connectionString, PostgresMigrationScript.Embedded, logger, cancellationToken);

    /// <summary>Applies the given scripts (in number order) that the database has not recorded yet.</summary>
    /// <returns>The names of the scripts applied by this call (empty when the schema was current).</returns>
    public static async Task<IReadOnlyList<string>> MigrateAsync(
        string connectionString,
        IReadOnlyList<PostgresMigrationScript> scripts,
        ILogger logger,
        CancellationToken cancellationToken)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(connectionString);
        ArgumentNullException.ThrowIfNull(scripts);
        ArgumentNullException.ThrowIfNull(logger);

        await using var connection = new NpgsqlConnection(connectionString);
        await connection.OpenAsync(cancellationToken);
        if (connection.PostgreSqlVersion.Major < MinimumServerMajorVersion)
        {
            // 003_grain_state.sql needs UNIQUE NULLS NOT DISTINCT (PostgreSQL 15).
            throw new InvalidOperationException(
                $"Grinder needs PostgreSQL {MinimumServerMajorVersion} or newer; the server is {connection.ServerVersion}.");
        }

        await using var transaction = await connection.BeginTransactionAsync(cancellationToken);

        await ExecuteAsync(connection, transaction, $"SELECT pg_advisory_xact_lock({AdvisoryLockKey})", cancellationToken);
        await ExecuteAsync(connection, transaction, """
            CREATE TABLE IF NOT EXISTS grinder_schema_migrations (
                script_name text        PRIMARY KEY,
                sha256      text        NOT NULL,
                applied_at  timestamptz NOT NULL DEFAULT now()
            )
            """, cancellationToken);

        var applied = await ReadAppliedAsync(connection, transaction, cancellationToken);
        var known = new HashSet<string>(StringComparer.Ordinal);
        var appliedNow = new List<string>();
        foreach (var script in scripts.OrderBy(s => s.Number))
        {
            known.Add(script.Name);
            if (applied.TryGetValue(script.Name, out var recordedChecksum))
            {
                if (!string.Equals(recordedChecksum, script.Checksum, StringComparison.Ordinal))
                {
                    throw new InvalidOperationException(
                        $"Schema script {script.Name} was applied to this database but has changed since " +
                        $"(recorded sha256 {recordedChecksum}, this build {script.Checksum}). " +
                        "Put schema changes into a new numbered script instead of editing an applied one.");
                }

                continue;
            }

            try
            {
                await ExecuteAsync(connection, transaction, script.Sql, cancellationToken);
            }
            catch (PostgresException e)
            {
                throw new InvalidOperationException(
                    $"Schema script {script.Name} failed: {e.SqlState} {e.MessageText}; no script of this run was applied.", e);
            }

            await using (var record = new NpgsqlCommand(
                "INSERT INTO grinder_schema_migrations (script_name, sha256) VALUES (@name, @sha256)", connection, transaction))
            {
                record.Parameters.AddWithValue("name", script.Name);
                record.Parameters.AddWithValue("sha256", script.Checksum);
                await record.ExecuteNonQueryAsync(cancellationToken);
            }

            appliedNow.Add(script.Name);
        }

        await transaction.CommitAsync(cancellationToken);

        foreach (var name in appliedNow)
        {
            LogScriptApplied(logger, name);
        }

        foreach (var unknown in applied.Keys.Where(name => !known.Contains(name)).Order(StringComparer.Ordinal))
        {
            LogUnknownScript(logger, unknown);
        }

        if (appliedNow.Count == 0)
        {
            LogSchemaCurrent(logger, applied.Count);
        }

        return appliedNow;
    }

    private static async Task<Dictionary<string, string>> ReadAppliedAsync(
        NpgsqlConnection connection, NpgsqlTransaction transaction, CancellationToken cancellationToken)
    {
        var applied = new Dictionary<string, string>(StringComparer.Ordinal);
        await using var command = new NpgsqlCommand(
            "SELECT script_name, sha256 FROM grinder_schema_migrations", connection, transaction);
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
        {
            applied[reader.GetString(0)] = reader.GetString(1);
        }

        return applied;
    }

    private static async Task ExecuteAsync(
        NpgsqlConnection connection, NpgsqlTransaction transaction, string sql, CancellationToken cancellationToken)
    {
        await using var command = new NpgsqlCommand(sql, connection, transaction) { CommandTimeout = CommandTimeoutSeconds };
        await command.ExecuteNonQueryAsync(cancellationToken);
    }

    [LoggerMessage(EventId = LogEvents.Storage.SchemaScriptApplied, EventName = "SCHEMA_SCRIPT_APPLIED", Level = LogLevel.Information,
        Message = "PostgreSQL schema script {ScriptName} applied")]
    private static partial void LogScriptApplied(ILogger logger, string scriptName);

    [LoggerMessage(EventId = LogEvents.Storage.SchemaCurrent, EventName = "SCHEMA_CURRENT", Level = LogLevel.Information,
        Message = "PostgreSQL schema is current ({ScriptCount} scripts applied earlier)")]
    private static partial void LogSchemaCurrent(ILogger logger, int scriptCount);

    [LoggerMessage(EventId = LogEvents.Storage.SchemaScriptUnknown, EventName = "SCHEMA_SCRIPT_UNKNOWN", Level = LogLevel.Warning,
        Message = "PostgreSQL schema script {ScriptName} is recorded in the database but not part of this build (a newer silo migrated it)")]
    private static partial void LogUnknownScript(ILogger logger, string scriptName);
}
