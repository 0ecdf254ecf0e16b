using Npgsql;

namespace Grinder.Tests.Infrastructure;

/// <summary>
/// A fresh database on the test server, owned by its own login role (the role the silo connects as),
/// dropped with the role on dispose.
/// </summary>
public sealed class PostgresDatabase : IAsyncDisposable
{
    private readonly PostgresServer _server;

    internal PostgresDatabase(PostgresServer server, string name, string appRole, string connectionString, string adminConnectionString)
    {
        _server = server;
        Name = name;
        AppRole = appRole;
        ConnectionString = connectionString;
        AdminConnectionString = adminConnectionString;
    }

    /// <summary>Database name (<c>grinder_test_&lt;guid&gt;</c>).</summary>
    public string Name { get; }

    /// <summary>The login role the application uses; it owns the database.</summary>
    public string AppRole { get; }

    /// <summary>Connection string for the application (the silo): logs in as <see cref="AppRole"/>.</summary>
    public string ConnectionString { get; }

    /// <summary>Connection string of the server admin on this database, for what an operator does with psql.</summary>
    public string AdminConnectionString { get; }

    /// <summary>Runs one statement as the admin (an operator at psql) and returns the first column of the first row.</summary>
    public async Task<T?> ScalarAsync<T>(string sql, params (string Name, object Value)[] parameters)
    {
        var rows = await QueryAsync(sql, parameters);
        return rows.Count == 0 || rows[0][0] is null ? default : (T)rows[0][0]!;
    }

    /// <summary>Runs one query as the admin and returns every row, each as an array of column values.</summary>
    public async Task<IReadOnlyList<object?[]>> QueryAsync(string sql, params (string Name, object Value)[] parameters)
    {
        await using var connection = new NpgsqlConnection(AdminConnectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand(sql, connection);
        foreach (var (name, value) in parameters)
        {
            command.Parameters.AddWithValue(name, value);
        }

        var rows = new List<object?[]>();
        await using var reader = await command.ExecuteReaderAsync();
        while (await reader.ReadAsync())
        {
            var row = new object?[reader.FieldCount];
            for (var i = 0; i < row.Length; i++)
            {
                row[i] = reader.IsDBNull(i) ? null : reader.GetValue(i);
            }

            rows.Add(row);
        }

        return rows;
    }

    /// <summary>
    /// Makes grain storage fail: the application role loses every privilege on the grain-state table,
    /// so reads and writes get PostgreSQL error 42501 (insufficient_privilege) while membership keeps
    /// working. Undo with <see cref="GrantGrainStorageAsync"/>.
    /// </summary>
    public Task RevokeGrainStorageAsync() => QueryAsync($"REVOKE ALL ON TABLE grinder_grain_state FROM {AppRole}");

    /// <summary>Gives the application role its privileges on the grain-state table back.</summary>
    public Task GrantGrainStorageAsync() => QueryAsync($"GRANT ALL ON TABLE grinder_grain_state TO {AppRole}");

    /// <inheritdoc />
    public async ValueTask DisposeAsync() => await _server.DropDatabaseAsync(this);
}
