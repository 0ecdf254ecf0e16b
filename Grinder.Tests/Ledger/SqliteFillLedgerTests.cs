using Grinder.Grains.Ledger;
using Grinder.Silo.Ledger;
using Grinder.Tests.Infrastructure;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.Logging.Abstractions;
using static Grinder.Tests.Ledger.LedgerTrades;

namespace Grinder.Tests.Ledger;

/// <summary>The ledger contract on a real SQLite file in a temp directory; reopening opens the same file anew.</summary>
public sealed class SqliteFillLedgerTests : FillLedgerContractTests, IDisposable
{
    private readonly TempDirectory _directory = new();

    protected override Task<IFillLedger> OpenAsync() =>
        Task.FromResult<IFillLedger>(new SqliteFillLedger(_directory.Path, NullLogger<SqliteFillLedger>.Instance));

    // One writer per file by design: a second activation in the same silo shares the silo's ledger instance.
    protected override Task<IFillLedger> OpenSecondWriterAsync() => Task.FromResult(Ledger);

    protected override ValueTask CloseAsync(IFillLedger ledger)
    {
        ((SqliteFillLedger)ledger).Dispose();
        return ValueTask.CompletedTask;
    }

    public void Dispose() => _directory.Dispose();

    [Fact]
    public async Task Ledger_file_is_in_wal_mode_with_amounts_stored_as_text()
    {
        await Ledger.AppendAsync(Batch(Account, FillFeeder.Poll,
            Trade("BTCUSDT", 1, price: "97000.12345678", qty: "0.00000001", commission: "-0.00000001")), CancellationToken.None);

        await using var connection = new SqliteConnection($"Data Source={Path.Combine(_directory.Path, "ledger.db")};Mode=ReadOnly;Pooling=False");
        await connection.OpenAsync();
        await using var command = connection.CreateCommand();
        command.CommandText = """
            SELECT price, typeof(price), qty, commission, typeof(commission), (SELECT notional FROM grinder_fill_totals), (SELECT typeof(notional) FROM grinder_fill_totals)
              FROM grinder_fills
            """;
        await using var reader = await command.ExecuteReaderAsync();
        Assert.True(await reader.ReadAsync());
        Assert.Equal(
            ["97000.12345678", "text", "0.00000001", "-0.00000001", "text", "0.0009700012345678", "text"],
            Enumerable.Range(0, 7).Select(reader.GetString));
        await using var mode = connection.CreateCommand();
        mode.CommandText = "PRAGMA journal_mode";
        Assert.Equal("wal", await mode.ExecuteScalarAsync());
    }

    [Fact]
    public void Ledger_refuses_a_file_written_by_a_newer_schema()
    {
        ((SqliteFillLedger)Ledger).Dispose();
        using (var connection = new SqliteConnection($"Data Source={Path.Combine(_directory.Path, "ledger.db")};Pooling=False"))
        {
            connection.Open();
            using var command = connection.CreateCommand();
            command.CommandText = $"PRAGMA user_version = {SqliteFillLedger.SchemaVersion + 1}";
            command.ExecuteNonQuery();
        }

        var error = Assert.Throws<InvalidOperationException>(() => new SqliteFillLedger(_directory.Path, NullLogger<SqliteFillLedger>.Instance));
        Assert.Contains("newer version", error.Message);
    }
}
