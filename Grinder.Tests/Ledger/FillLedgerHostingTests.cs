using System.Text.Json;
using Grinder.Grains.Ledger;
using Grinder.Silo.Ledger;
using Grinder.Tests.Infrastructure;
using static Grinder.Tests.Ledger.LedgerTrades;

namespace Grinder.Tests.Ledger;

/// <summary>The silo composition picks the ledger of its storage mode, creates it at start, and keeps it across restarts.</summary>
public sealed class FillLedgerHostingTests
{
    [Fact]
    public async Task Ledger_postgres_mode_silo_migrates_the_ledger_tables_and_serves_fills_from_them()
    {
        await using var database = await (await PostgresServer.GetAsync()).CreateDatabaseAsync();
        var settings = new Dictionary<string, string?>
        {
            ["GRINDER_POSTGRES"] = database.ConnectionString,
            ["BINANCE_API_KEY"] = "hosting-key",
            ["BINANCE_API_SECRET"] = "hosting-secret",
            ["Grinder:Symbols"] = "BTCUSDT",
        };

        await using (var silo = await InProcessSilo.StartAsync(settings))
        {
            var ledger = silo.Services.GetRequiredService<IFillLedger>();
            Assert.IsType<PostgresFillLedger>(ledger);
            await ledger.AppendAsync(Batch("main", FillFeeder.Poll, Trade("BTCUSDT", 42, commission: "0.00000001")), CancellationToken.None);
        }

        Assert.Equal(1L, await database.ScalarAsync<long>("SELECT count(*) FROM grinder_fills WHERE account = 'main' AND trade_id = 42"));
        await using var restarted = await InProcessSilo.StartAsync(settings);
        using var page = JsonDocument.Parse(await restarted.Http.GetStringAsync("fills"));
        var row = Assert.Single(page.RootElement.GetProperty("fills").EnumerateArray());
        Assert.Equal(42, row.GetProperty("id").GetInt64());
        Assert.Equal("0.00000001", row.GetProperty("commission").GetString());
    }

    [Fact]
    public async Task Ledger_local_mode_silo_keeps_its_ledger_db_in_the_data_directory_across_restarts()
    {
        using var data = new TempDirectory();
        var settings = new Dictionary<string, string?>
        {
            ["GRINDER_DATA_DIR"] = data.Path,
            ["BINANCE_API_KEY"] = "hosting-key",
            ["BINANCE_API_SECRET"] = "hosting-secret",
            ["Grinder:Symbols"] = "BTCUSDT",
        };

        await using (var silo = await InProcessSilo.StartAsync(settings))
        {
            // Opened by the start-up check, before anything used it.
            Assert.True(File.Exists(Path.Combine(data.Path, SqliteFillLedger.FileName)));
            var ledger = silo.Services.GetRequiredService<IFillLedger>();
            Assert.IsType<SqliteFillLedger>(ledger);
            await ledger.AppendAsync(Batch("main", FillFeeder.Poll, Trade("BTCUSDT", 7), Trade("BTCUSDT", 8)), CancellationToken.None);
        }

        await using var restarted = await InProcessSilo.StartAsync(settings);
        var csv = await restarted.Http.GetStringAsync("fills?format=csv");
        Assert.Equal(3, csv.Split("\r\n", StringSplitOptions.RemoveEmptyEntries).Length);
        Assert.Equal(2, (await restarted.Services.GetRequiredService<IFillLedger>().GetTotalsAsync("main", CancellationToken.None)).Count);
    }

    [Fact]
    public async Task Ledger_local_mode_silo_does_not_start_on_a_ledger_of_a_newer_schema()
    {
        using var data = new TempDirectory();
        using (var connection = new Microsoft.Data.Sqlite.SqliteConnection($"Data Source={Path.Combine(data.Path, SqliteFillLedger.FileName)};Pooling=False"))
        {
            connection.Open();
            using var command = connection.CreateCommand();
            command.CommandText = "PRAGMA user_version = 99";
            command.ExecuteNonQuery();
        }

        var error = await Assert.ThrowsAnyAsync<Exception>(() => InProcessSilo.StartAsync(new Dictionary<string, string?> { ["GRINDER_DATA_DIR"] = data.Path }));
        Assert.Contains("newer version", error.ToString());
    }
}
