using System.Text.Json.Nodes;
using Grinder.FakeBinance;
using Grinder.Grains;
using Grinder.Grains.Ledger;
using Grinder.Tests.Infrastructure;
using Grinder.Tests.Ingest;
using Orleans.Storage;

namespace Grinder.Tests.Silo;

/// <summary>
/// A local data directory written by the version before the fill ledger (counters in the account's state file, no
/// ledger.db) under the new version: the counters stay, the history is listed in the SQLite ledger as pre-ledger rows,
/// nothing is counted twice and later fills count as usual.
/// </summary>
public sealed class LocalUpgradeTests
{
    private const string Key = "upgrade-key-4d2e";
    private const string Secret = "upgrade-secret-8b1f";

    [Fact]
    public async Task A_pre_ledger_data_directory_keeps_its_counters_and_its_fills_count_once()
    {
        await using var exchange = await FakeExchange.StartAsync();
        exchange.AddAccount(Key, Secret);
        var trades = exchange.GenerateTrades(Key, "BTCUSDT", 40, seed: 3, selfTradePairFraction: 0.2, startTimeMs: DateTimeOffset.UtcNow.AddHours(-1).ToUnixTimeMilliseconds());
        var markId = trades.Select(t => t.Id).Distinct().Order().ElementAt(29);
        var counted = trades.Where(t => t.Id <= markId).ToList();
        using var data = new TempDirectory();
        Dictionary<string, string?> Settings(string ingest) => new()
        {
            ["FILL_INGEST_ENABLED"] = ingest,
            ["GRINDER_DATA_DIR"] = data.Path,
            ["BINANCE_API_KEY"] = Key,
            ["BINANCE_API_SECRET"] = Secret,
            ["Grinder:Binance:BaseUrl"] = exchange.BaseUrl.ToString(),
            ["Grinder:Ingest:PollInterval"] = "00:00:01",
            ["Grinder:Stream:Enabled"] = "false",
        };

        // The state file as the previous version wrote it, through the same storage provider (ingest off: nothing reads it).
        await using (var writer = await InProcessSilo.StartAsync(Settings("0")))
        {
            var storage = writer.Services.GetRequiredKeyedService<IGrainStorage>(GrinderStorage.Name);
            await storage.WriteStateAsync("ingest", GrainId.Create("fillingest", "acct-main"), new GrainState<JsonObject>(PreLedgerState.Json(counted, markId)));
        }

        // The previous version had no ledger: the writer's fresh one (and its WAL files) goes.
        foreach (var file in Directory.GetFiles(data.Path, "ledger.db*"))
        {
            File.Delete(file);
        }

        await using var silo = await InProcessSilo.StartAsync(Settings("1"));
        var grain = silo.Grains.GetGrain<IFillIngestGrain>("acct-main");
        Assert.True(IngestExpectations.Count(await grain.GetSnapshotAsync()) >= counted.Count);

        var later = exchange.GenerateTrades(Key, "BTCUSDT", 6, seed: 4);
        var all = trades.Concat(later).ToList();
        await IngestExpectations.CountedAsync(grain, all.Count);
        var after = await IngestExpectations.PollsAsync(grain, 3);
        IngestExpectations.Equal(IngestExpectations.Totals(all), after.Fills);

        var ledger = silo.Services.GetRequiredService<IFillLedger>();
        var rows = await IngestExpectations.RowsAsync(ledger, "main");
        Assert.Equal(counted.Count, rows.Count(row => row.PreLedger));
        await IngestExpectations.LedgerEqualsExchangeAsync(ledger, "main", exchange, Key);
        var text = await silo.Http.GetStringAsync("fills?account=main&format=csv");
        Assert.Equal(all.Count + 1, text.Split('\n', StringSplitOptions.RemoveEmptyEntries).Length);
    }
}
