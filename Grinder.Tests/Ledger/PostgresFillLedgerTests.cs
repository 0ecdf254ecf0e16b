using Grinder.Grains.Ledger;
using Grinder.Silo.Ledger;
using Grinder.Silo.Storage;
using Microsoft.Extensions.Logging.Abstractions;
using static Grinder.Tests.Ledger.LedgerTrades;

namespace Grinder.Tests.Ledger;

/// <summary>The ledger contract on a real PostgreSQL database; "reopening" is a new ledger instance (a silo restart).</summary>
public sealed class PostgresFillLedgerTests(LedgerPostgresFixture fixture) : FillLedgerContractTests, IClassFixture<LedgerPostgresFixture>
{
    protected override Task<IFillLedger> OpenAsync() => Task.FromResult<IFillLedger>(Create());

    protected override Task<IFillLedger> OpenSecondWriterAsync() => Task.FromResult<IFillLedger>(Create());

    protected override async ValueTask CloseAsync(IFillLedger ledger) => await ((PostgresFillLedger)ledger).DisposeAsync();

    [Fact]
    public async Task Ledger_amounts_are_stored_as_exact_numeric_values()
    {
        await Ledger.AppendAsync(Batch(Account, Grinder.Grains.Ledger.FillFeeder.Poll,
            Trade("BTCUSDT", 1, price: "97000.12345678", qty: "0.00000001", commission: "-0.00000001")), CancellationToken.None);

        var row = Assert.Single(await fixture.Database.QueryAsync(
            "SELECT price::text, qty::text, commission::text, pg_typeof(price)::text, buyer FROM grinder_fills WHERE account = @account",
            ("account", Account)));
        Assert.Equal(["97000.12345678", "0.00000001", "-0.00000001", "numeric", true], row);
    }

    [Fact]
    public async Task Ledger_waits_for_the_schema_migration_before_touching_the_database()
    {
        var gate = new PostgresSchemaGate();
        await using var ledger = new PostgresFillLedger(fixture.Database.ConnectionString, gate, NullLogger<PostgresFillLedger>.Instance);

        var totals = ledger.GetTotalsAsync(Account, CancellationToken.None);
        Assert.False(totals.IsCompleted);
        gate.MarkMigrated();

        Assert.Equal(0, (await totals).Count);
    }

    private PostgresFillLedger Create() =>
        new(fixture.Database.ConnectionString, PostgresSchemaGate.Open(), NullLogger<PostgresFillLedger>.Instance);
}
