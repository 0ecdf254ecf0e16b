using Grinder.Grains.Binance;
using Grinder.Grains.Ledger;
using Grinder.Tests.Infrastructure;
using static Grinder.Tests.Ledger.LedgerTrades;

namespace Grinder.Tests.Ledger;

/// <summary>
/// Class fixture: one local-mode silo with three configured accounts (ingest off), whose ledger is filled directly:
/// <c>alpha</c> with <see cref="AlphaRows"/> rows over three symbols (self-trades and equal trade times included),
/// <c>beta</c> with a few rows of known amounts, <c>empty</c> with none.
/// </summary>
public sealed class FillApiSiloFixture : IAsyncLifetime
{
    public const int AlphaRows = 1234;

    private readonly TempDirectory _data = new();

    public InProcessSilo Silo { get; private set; } = null!;

    public IFillLedger Ledger => Silo.Services.GetRequiredService<IFillLedger>();

    public IReadOnlyList<ParsedTrade> Alpha { get; private set; } = [];

    public async Task InitializeAsync()
    {
        var settings = new Dictionary<string, string?> { ["GRINDER_DATA_DIR"] = _data.Path };
        foreach (var (id, index) in new[] { ("alpha", 0), ("beta", 1), ("empty", 2) })
        {
            settings[$"Grinder:Accounts:{index}:Id"] = id;
            settings[$"Grinder:Accounts:{index}:Symbols"] = "BTCUSDT,ETHUSDT";
            settings[$"Grinder:Accounts:{index}:ApiKey"] = "test-key-" + id;
            settings[$"Grinder:Accounts:{index}:ApiSecret"] = "test-secret-" + id;
        }

        Silo = await InProcessSilo.StartAsync(settings);

        var alpha = new List<ParsedTrade>();
        for (var i = 0; alpha.Count < AlphaRows; i++)
        {
            var symbol = (i % 3) switch { 0 => "BTCUSDT", 1 => "ETHUSDT", _ => "1000PEPEUSDT" };
            // Three rows per millisecond: the page key must break ties by symbol, id and side.
            alpha.Add(Trade(symbol, 1000 + i, i % 2 == 0 ? FillSide.Buy : FillSide.Sell, timeOffsetMs: i / 3,
                price: $"{100 + i % 50}.125", qty: "0.001", commission: i % 7 == 0 ? "-0.00000001" : "0.0000125"));
            if (i % 50 == 0 && alpha.Count < AlphaRows)
            {
                alpha.Add(Trade(symbol, 1000 + i, i % 2 == 0 ? FillSide.Sell : FillSide.Buy, timeOffsetMs: i / 3, price: $"{100 + i % 50}.125", qty: "0.001"));
            }
        }

        foreach (var chunk in alpha.Chunk(200))
        {
            await Ledger.AppendAsync(Batch("alpha", FillFeeder.Poll, chunk), CancellationToken.None);
        }

        Alpha = alpha
            .OrderBy(t => t.TimeMs).ThenBy(t => t.Symbol, StringComparer.Ordinal).ThenBy(t => t.Id).ThenBy(t => t.Side)
            .ToList();

        await Ledger.AppendAsync(Batch("beta", FillFeeder.Poll,
            Trade("BTCUSDT", 1, FillSide.Buy, price: "97000.1", qty: "0.00000001", commission: "0.00000001", liquidity: FillLiquidity.Maker, orderId: 555),
            Trade("BTCUSDT", 2, FillSide.Sell, price: "97100", qty: "0.003", commission: "-0.00000003", realizedPnl: "0.30000001", timeOffsetMs: 60_000),
            Trade("ETHUSDT", 3, FillSide.Buy, price: "3000.01", qty: "1.1", commission: "0.5", asset: "BNB", timeOffsetMs: 120_000)), CancellationToken.None);
        await Ledger.AppendAsync(Batch("beta", FillFeeder.Rescan,
            Trade("ETHUSDT", 4, FillSide.Sell, price: "3001", qty: "0.5", commission: "0.1", realizedPnl: "-1.5", timeOffsetMs: 180_000, positionSide: "SHORT")), CancellationToken.None);
    }

    public async Task DisposeAsync()
    {
        if (Silo is not null)
        {
            await Silo.DisposeAsync();
        }

        _data.Dispose();
    }
}
