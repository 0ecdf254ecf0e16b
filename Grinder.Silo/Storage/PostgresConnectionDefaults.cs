using System.Data.Common;
using Npgsql;

namespace Grinder.Silo.Storage;

/// <summary>
/// Npgsql settings the silo's own connection pool runs best with, applied only where the operator's connection string
/// does not name the setting itself. Every account poll ends in one grain-state write, so the write's cost on the
/// server is the fan-out's limit (docs/benchmarks.md "Fan-out": PostgreSQL CPU per write fell from about 0.5 to 0.2 ms).
/// </summary>
/// <remarks>
/// <list type="bullet">
/// <item><c>Max Auto Prepare=20</c>: the ADO.NET providers build a new command per call; Npgsql prepares a statement on
/// the server once it has seen it often on one physical connection, so the write is no longer parsed and planned every time.</item>
/// <item><c>No Reset On Close=true</c>: returning a pooled connection otherwise resets the session, which also discards
/// every cached plan. The silo sets no session state (no SET, temporary tables, LISTEN or session advisory locks; the
/// schema migrator's lock is transaction-scoped), so there is nothing to reset.</item>
/// </list>
/// Behind a PgBouncer in transaction mode without prepared-statement support (before 1.21), put
/// <c>Max Auto Prepare=0</c> into <c>GRINDER_POSTGRES</c>.
/// </remarks>
public static class PostgresConnectionDefaults
{
    public const int MaxAutoPrepare = 20;

    /// <summary>Returns <paramref name="connectionString"/> with the defaults added where it does not set them.</summary>
    /// <exception cref="ArgumentException">The string is not a valid Npgsql connection string (the message names the keyword, never a value).</exception>
    public static string Apply(string connectionString)
    {
        var given = new DbConnectionStringBuilder { ConnectionString = connectionString };
        var named = given.Keys.Cast<string>().Select(Normalize).ToHashSet(StringComparer.Ordinal);
        var builder = new NpgsqlConnectionStringBuilder(connectionString);
        if (!named.Contains("maxautoprepare"))
        {
            builder.MaxAutoPrepare = MaxAutoPrepare;
        }

        if (!named.Contains("noresetonclose"))
        {
            builder.NoResetOnClose = true;
        }

        return builder.ConnectionString;
    }

    // Npgsql matches keywords without regard to case or spaces ("Max Auto Prepare" = "MaxAutoPrepare").
    private static string Normalize(string keyword) => keyword.Replace(" ", string.Empty, StringComparison.Ordinal).ToLowerInvariant();
}
