using Grinder.Silo.Storage;
using Grinder.Tests.Infrastructure;
using Microsoft.Extensions.Logging.Abstractions;

namespace Grinder.Tests.Storage;

public sealed class PostgresSchemaMigratorTests(PostgresDatabaseFixture fixture) : IClassFixture<PostgresDatabaseFixture>
{
    // The statements Microsoft.Orleans.Clustering.AdoNet and Microsoft.Orleans.Persistence.AdoNet 10.4.2
    // load by key at start (a missing one stops the silo with "Not all required queries found").
    private static readonly string[] ProviderQueryKeys =
    [
        "GatewaysQueryKey", "MembershipReadRowKey", "MembershipReadAllKey", "InsertMembershipVersionKey",
        "UpdateIAmAlivetimeKey", "InsertMembershipKey", "UpdateMembershipKey", "DeleteMembershipTableEntriesKey",
        "CleanupDefunctSiloEntriesKey", "CleanupDefunctSiloEntryKey",
        "WriteToStorageKey", "ReadFromStorageKey", "ClearStorageKey", "DeleteStorageKey",
    ];

    [Fact]
    public async Task Migrating_an_empty_database_twice_records_each_script_once()
    {
        var database = fixture.Database;

        var first = await PostgresSchemaMigrator.MigrateAsync(
            database.ConnectionString, PostgresMigrationScript.Embedded, NullLogger.Instance, CancellationToken.None);
        var second = await PostgresSchemaMigrator.MigrateAsync(
            database.ConnectionString, PostgresMigrationScript.Embedded, NullLogger.Instance, CancellationToken.None);

        var embedded = PostgresMigrationScript.Embedded.Select(s => s.Name).ToArray();
        Assert.Equal(["001_orleans_query.sql", "002_cluster_membership.sql", "003_grain_state.sql", "004_grain_state_edit_guard.sql", "005_fill_ledger.sql"], embedded);
        Assert.Equal(embedded, first);
        Assert.Empty(second);
        var recorded = await database.QueryAsync("SELECT script_name, sha256 FROM grinder_schema_migrations ORDER BY script_name");
        Assert.Equal(embedded, recorded.Select(r => (string)r[0]!));
        Assert.Equal(PostgresMigrationScript.Embedded.Select(s => s.Checksum), recorded.Select(r => (string)r[1]!));

        var keys = await database.QueryAsync("SELECT QueryKey FROM OrleansQuery ORDER BY QueryKey");
        Assert.Equal(ProviderQueryKeys.Order(StringComparer.Ordinal), keys.Select(r => (string)r[0]!).Order(StringComparer.Ordinal));
    }

    [Fact]
    public async Task Silos_migrating_at_the_same_time_apply_each_script_once()
    {
        await using var database = await fixture.Server.CreateDatabaseAsync();

        var runs = await Task.WhenAll(Enumerable.Range(0, 3).Select(_ => Task.Run(() =>
            PostgresSchemaMigrator.MigrateAsync(
                database.ConnectionString, PostgresMigrationScript.Embedded, NullLogger.Instance, CancellationToken.None))));

        Assert.Single(runs, applied => applied.Count == PostgresMigrationScript.Embedded.Count);
        Assert.Equal(2, runs.Count(applied => applied.Count == 0));
        Assert.Equal(
            PostgresMigrationScript.Embedded.Count,
            await database.ScalarAsync<long>("SELECT count(DISTINCT script_name) FROM grinder_schema_migrations"));
    }

    [Fact]
    public async Task A_failing_script_names_itself_and_leaves_the_database_untouched()
    {
        await using var database = await fixture.Server.CreateDatabaseAsync();
        PostgresMigrationScript[] scripts =
        [
            .. PostgresMigrationScript.Embedded,
            PostgresMigrationScript.FromFile("004_broken.sql", "CREATE TABLE half_done (id int);\nSELEC 1;"),
        ];

        var error = await Assert.ThrowsAsync<InvalidOperationException>(() =>
            PostgresSchemaMigrator.MigrateAsync(database.ConnectionString, scripts, NullLogger.Instance, CancellationToken.None));

        Assert.Contains("004_broken.sql", error.Message);
        Assert.Equal(0L, await database.ScalarAsync<long>(
            "SELECT count(*) FROM pg_tables WHERE tablename IN ('grinder_schema_migrations', 'orleansquery', 'half_done')"));

        var applied = await PostgresSchemaMigrator.MigrateAsync(
            database.ConnectionString, PostgresMigrationScript.Embedded, NullLogger.Instance, CancellationToken.None);
        Assert.Equal(PostgresMigrationScript.Embedded.Count, applied.Count);
    }

    [Fact]
    public async Task An_applied_script_that_was_edited_is_refused()
    {
        await using var database = await fixture.Server.CreateDatabaseAsync();
        await PostgresSchemaMigrator.MigrateAsync(database.ConnectionString, NullLogger.Instance, CancellationToken.None);
        var edited = PostgresMigrationScript.Embedded
            .Select(s => s.Number == 3 ? s with { Sql = s.Sql + "\nCREATE INDEX late_idea ON grinder_grain_state (written_at);" } : s)
            .ToArray();

        var error = await Assert.ThrowsAsync<InvalidOperationException>(() =>
            PostgresSchemaMigrator.MigrateAsync(database.ConnectionString, edited, NullLogger.Instance, CancellationToken.None));

        Assert.Contains("003_grain_state.sql", error.Message);
        Assert.Contains("new numbered script", error.Message);
    }
}
