using System.Text.Json.Nodes;
using Grinder.FakeBinance;
using Grinder.Grains;
using Grinder.Grains.Ingest;
using Grinder.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;
using Orleans.Storage;
using Orleans.TestingHost;
using static Grinder.Tests.Ingest.IngestExpectations;

namespace Grinder.Tests.Ingest;

/// <summary>
/// The losses the fill ledger closes, reproduced by the fake exchange over HTTP on a two-silo PostgreSQL cluster. Each
/// test ends with the ledger equal to the exchange's trades, exactly, and the counters equal to the ledger's sums.
/// </summary>
[Collection(IngestClusterCollection.Name)]
public sealed class LedgerIngestTests(IngestClusterFixture fixture)
{
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(60);

    [Fact]
    public async Task Trades_that_become_visible_after_a_higher_id_was_read_are_recovered_by_the_re_scan_and_counted_once()
    {
        var account = fixture.TakeAccount();
        var key = IngestClusterFixture.KeyOf(account);
        var grain = fixture.Account(account);
        var trades = fixture.NewTrades(account, "BTCUSDT", 12, seed: 41);

        // Three trades in the middle exist but are not served yet: the read position passes them.
        var hidden = fixture.Exchange.HideTrades(key, "BTCUSDT", trades[4].Id, trades[6].Id, FakeVisibility.Held);
        Assert.Equal(3, hidden);
        await Eventually.ReturnsAsync(
            grain.GetHealthAsync,
            health => health.Symbols.Single(s => s.Symbol == "BTCUSDT").LastTradeId == trades[^1].Id,
            Wait,
            "the read position to pass the hidden trades");
        Assert.Equal(trades.Count - 3, Count(await grain.GetSnapshotAsync()));

        fixture.Exchange.RevealTrades(key);
        var recovered = await CountedAsync(grain, trades.Count);

        Assert.Equal(3, recovered.Recovered);
        var logged = fixture.Logs.Event("FILL_RECOVERED").Where(line => line.Message.Contains($"account={account} ", StringComparison.Ordinal)).ToList();
        Assert.Equal(
            trades.Skip(4).Take(3).Select(t => t.Id).Order(),
            logged.Select(line => long.Parse(line.Message.Split("trade_id=")[1].Split(' ')[0], System.Globalization.CultureInfo.InvariantCulture)).Order());
        IngestExpectations.Equal(Totals(trades), (await PollsAsync(grain, 2)).Fills);
        await LedgerEqualsExchangeAsync(fixture.Ledger, account, fixture.Exchange, key);
    }

    [Fact]
    public async Task A_quarantined_row_with_a_corrupt_huge_id_hides_no_later_fill_and_is_counted_once()
    {
        var account = fixture.TakeAccount();
        var key = IngestClusterFixture.KeyOf(account);
        var grain = fixture.Account(account);
        var first = fixture.NewTrades(account, "ETHUSDT", 5, seed: 42);
        await CountedAsync(grain, first.Count);

        fixture.Exchange.AddCorruptRow(key, "ETHUSDT");
        await Eventually.ReturnsAsync(grain.GetHealthAsync, health => health.Quarantine.Any(row => row.TradeId == FakeExchange.HugeCorruptId), Wait, "the corrupt row quarantined");
        var later = fixture.NewTrades(account, "ETHUSDT", 7, seed: 43);

        var after = await CountedAsync(grain, first.Count + later.Count);
        after = await PollsAsync(grain, 3);

        // The corrupt row is read again every poll (nothing confirms its id), but enters the quarantine, and the count, once.
        Assert.Equal(1, after.Errors.GetValueOrDefault(ErrorReason.Parse));
        var health = await grain.GetHealthAsync();
        Assert.Equal(later[^1].Id, health.Symbols.Single(s => s.Symbol == "ETHUSDT").LastTradeId);
        Assert.Equal(1, health.Symbols.Single(s => s.Symbol == "ETHUSDT").QuarantinedRows);

        // Logged once, by the account, when it entered the quarantine: not again by the reader on every poll that meets it.
        var logged = fixture.Logs.Event("FILL_PARSE_ERROR").Where(line => line.Message.Contains($"trade_id={FakeExchange.HugeCorruptId}", StringComparison.Ordinal)).ToList();
        Assert.Single(logged, line => line.Message.Contains($"account={account} ", StringComparison.Ordinal));
        Assert.All(logged, line => Assert.Contains("account=", line.Message, StringComparison.Ordinal));
        IngestExpectations.Equal(Totals(first.Concat(later)), after.Fills);
        await LedgerEqualsExchangeAsync(fixture.Ledger, account, fixture.Exchange, key);
    }

    [Fact]
    public async Task Rows_of_another_symbol_on_a_page_move_no_position_past_a_real_trade()
    {
        var account = fixture.TakeAccount();
        var key = IngestClusterFixture.KeyOf(account);
        var grain = fixture.Account(account);

        // ETH ids run far ahead of BTC's; every BTC page also carries the ETH rows of the same selection.
        fixture.NewTrades(account, "ETHUSDT", 30, seed: 44);
        fixture.Exchange.AddPageFault(new FakePageFault(FakePageFaultKind.ForeignSymbolRows, ApiKey: key, Symbol: "BTCUSDT", ForeignSymbol: "ETHUSDT"));
        try
        {
            var btc = fixture.NewTrades(account, "BTCUSDT", 4, seed: 45);
            await CountedAsync(grain, 34);
            var more = fixture.NewTrades(account, "BTCUSDT", 6, seed: 46);
            await CountedAsync(grain, 40);

            var health = await grain.GetHealthAsync();
            Assert.Equal(more[^1].Id, health.Symbols.Single(s => s.Symbol == "BTCUSDT").LastTradeId);
            Assert.Contains(health.Quarantine, row => row.Symbol == "BTCUSDT" && row.Reason == "symbol: not the requested symbol");
            Assert.Equal(btc.Count + more.Count, (await RowsAsync(fixture.Ledger, account)).Count(row => row.Trade.Symbol == "BTCUSDT"));
        }
        finally
        {
            fixture.Exchange.ClearPageFaults();
        }

        await LedgerEqualsExchangeAsync(fixture.Ledger, account, fixture.Exchange, key);
    }

    [Fact]
    public async Task A_self_trade_split_by_a_full_page_and_one_split_by_a_poll_are_both_recorded_once()
    {
        var account = fixture.TakeAccount();
        var key = IngestClusterFixture.KeyOf(account);
        var grain = fixture.Account(account);
        var now = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();

        // 999 rows, then a self-trade whose BUY is row 1000 of the first page and whose SELL opens the next page.
        var singles = fixture.Exchange.AddTrades(key, [.. Enumerable.Range(0, 999).Select(i => IngestClusterFixture.Row("BTCUSDT", 0, i % 2 == 0 ? "BUY" : "SELL", now - 60_000 + i))]);
        var pairId = singles[^1].Id + 1;
        fixture.Exchange.AddTrades(key, [IngestClusterFixture.Row("BTCUSDT", pairId, "BUY", now - 30_000), IngestClusterFixture.Row("BTCUSDT", pairId, "SELL", now - 30_000), IngestClusterFixture.Row("BTCUSDT", pairId + 1, "BUY", now - 29_000)]);
        await CountedAsync(grain, 1_002);

        // A self-trade whose SELL row is served only after a poll has read its BUY row and moved past the id.
        var buy = fixture.Exchange.AddTrade(key, IngestClusterFixture.Row("BTCUSDT", 0, "BUY", 0));
        await Eventually.ReturnsAsync(grain.GetHealthAsync, health => health.Symbols.Single(s => s.Symbol == "BTCUSDT").LastTradeId == buy.Id, Wait, "the BUY row read");
        fixture.Exchange.AddTrade(key, IngestClusterFixture.Row("BTCUSDT", buy.Id, "SELL", buy.TimeMs));
        var after = await CountedAsync(grain, 1_004);

        Assert.Equal(1_004, Count(await PollsAsync(grain, 3)));
        Assert.Equal(1, after.Recovered);
        await LedgerEqualsExchangeAsync(fixture.Ledger, account, fixture.Exchange, key);
    }

    [Fact]
    public async Task Pages_served_out_of_id_order_and_with_the_sell_row_first_are_recorded_exactly()
    {
        var account = fixture.TakeAccount();
        var key = IngestClusterFixture.KeyOf(account);
        var grain = fixture.Account(account);
        fixture.Exchange.AddPageFault(new FakePageFault(FakePageFaultKind.Shuffled, ApiKey: key, Symbol: "BTCUSDT", Seed: 52));
        fixture.Exchange.AddPageFault(new FakePageFault(FakePageFaultKind.SellBeforeBuy, ApiKey: key, Symbol: "ETHUSDT"));
        try
        {
            fixture.NewTrades(account, "BTCUSDT", 300, seed: 52, selfTradePairFraction: 0.2);
            fixture.NewTrades(account, "ETHUSDT", 300, seed: 53, selfTradePairFraction: 0.3);

            // The faults have something to reorder: self-trade pairs (a BUY and a SELL row of one id) on both symbols.
            Assert.All(IngestClusterFixture.Symbols, symbol => Assert.Contains(fixture.Exchange.Trades(key, symbol).GroupBy(trade => trade.Id), pair => pair.Count() == 2));
            var expected = fixture.Exchange.TradeKeys(key).Count;
            await CountedAsync(grain, expected);
            Assert.Equal(expected, Count(await PollsAsync(grain, 3)));
            var health = await grain.GetHealthAsync();
            Assert.All(health.Symbols, symbol => Assert.Equal(fixture.Exchange.Trades(key, symbol.Symbol).Max(t => t.Id), symbol.LastTradeId));
        }
        finally
        {
            fixture.Exchange.ClearPageFaults();
        }

        await LedgerEqualsExchangeAsync(fixture.Ledger, account, fixture.Exchange, key);
    }

    [Fact]
    public async Task A_state_written_before_the_ledger_keeps_its_counters_and_counts_nothing_twice_after_the_upgrade()
    {
        var account = "up-" + Guid.NewGuid().ToString("N")[..6];
        var key = IngestClusterFixture.KeyOf(account);
        fixture.Exchange.AddAccount(key, IngestClusterFixture.SecretOf(account));
        var trades = fixture.Exchange.GenerateTrades(key, "BTCUSDT", 30, seed: 50, selfTradePairFraction: 0.2, startTimeMs: DateTimeOffset.UtcNow.AddHours(-1).ToUnixTimeMilliseconds());

        // What the previous version stored after counting the first 20 ids: counters and high-water mark, no ledger.
        var markId = trades.Select(t => t.Id).Distinct().Order().ElementAt(19);
        var counted = trades.Where(t => t.Id <= markId).ToList();
        var storage = ((InProcessSiloHandle)fixture.Cluster.Silos.First()).SiloHost.Services.GetRequiredKeyedService<IGrainStorage>(GrinderStorage.Name);
        var old = new GrainState<JsonObject>(PreLedgerState.Json(counted, markId));
        await storage.WriteStateAsync("ingest", GrainId.Create("fillingest", ConfiguredAccount.GrainKeyFor(account)), old);

        TestCluster upgraded = await IngestClusterFixture.StartClusterAsync(
            fixture.Database.ConnectionString, "upgrade-" + account, silos: 1, fixture.Exchange.BaseUrl, [account]);
        try
        {
            var grain = upgraded.Client.GetGrain<IFillIngestGrain>(ConfiguredAccount.GrainKeyFor(account));
            var first = await grain.GetSnapshotAsync();
            Assert.True(Count(first) >= counted.Count, $"counters dropped at the upgrade: {Count(first)} < {counted.Count}");

            var btc = trades;
            var later = fixture.Exchange.GenerateTrades(key, "BTCUSDT", 5, seed: 51);
            var all = btc.Concat(later).ToList();
            var after = await CountedAsync(grain, all.Count);
            after = await PollsAsync(grain, 3);

            IngestExpectations.Equal(Totals(all), after.Fills);
            var ledger = IngestClusterFixture.LedgerOf(upgraded);
            var rows = await RowsAsync(ledger, account);
            Assert.Equal(counted.Count, rows.Count(row => row.PreLedger));
            Assert.All(rows.Where(row => row.PreLedger), row => Assert.True(row.Trade.Id <= markId));
            await LedgerEqualsExchangeAsync(ledger, account, fixture.Exchange, key);
        }
        finally
        {
            await upgraded.StopAllSilosAsync();
            await upgraded.DisposeAsync();
        }
    }

    [Fact]
    public async Task A_silo_killed_while_three_silos_drain_a_backlog_loses_and_doubles_no_fill()
    {
        var names = Enumerable.Range(0, 6).Select(i => "bk-" + i.ToString("00", System.Globalization.CultureInfo.InvariantCulture)).ToList();
        await using var exchange = await FakeExchange.StartAsync(new FakeExchangeOptions { WeightLimitPerMinute = 1_000_000 });
        var start = DateTimeOffset.UtcNow.AddHours(-2).ToUnixTimeMilliseconds();
        foreach (var (name, index) in names.Select((name, index) => (name, index)))
        {
            exchange.AddAccount(IngestClusterFixture.KeyOf(name), IngestClusterFixture.SecretOf(name));
            exchange.GenerateTrades(IngestClusterFixture.KeyOf(name), "BTCUSDT", 4_000, seed: 80 + index, selfTradePairFraction: 0.05, startTimeMs: start);
            exchange.GenerateTrades(IngestClusterFixture.KeyOf(name), "ETHUSDT", 1_500, seed: 90 + index, startTimeMs: start);
        }

        await using var database = await (await PostgresServer.GetAsync()).CreateDatabaseAsync();

        // One page per symbol per poll: the backlog takes several polls, so the kill lands while it drains.
        var cluster = await IngestClusterFixture.StartClusterAsync(
            database.ConnectionString, "backlog-" + Guid.NewGuid().ToString("N")[..8], silos: 3, exchange.BaseUrl, names,
            settings: new Dictionary<string, string> { ["Grinder:Binance:MaxPagesPerPoll"] = "1" });
        try
        {
            var grains = names.Select(name => cluster.Client.GetGrain<IFillIngestGrain>(ConfiguredAccount.GrainKeyFor(name))).ToList();
            await Eventually.TrueAsync(
                async () => (await Task.WhenAll(grains.Select(grain => grain.GetSnapshotAsync()))).Any(snapshot => Count(snapshot) > 0),
                Wait,
                "the backlog to start draining");
            var counts = (await Task.WhenAll(grains.Select(grain => grain.GetSnapshotAsync()))).Select(Count).ToList();
            Assert.Contains(counts, count => count < 5_000);
            await cluster.KillSiloAsync(cluster.SecondarySilos[0]);

            var ledger = IngestClusterFixture.LedgerOf(cluster);
            foreach (var (name, grain) in names.Zip(grains))
            {
                var key = IngestClusterFixture.KeyOf(name);
                await CountedAsync(grain, exchange.TradeKeys(key).Count, TimeSpan.FromSeconds(120));
                await LedgerEqualsExchangeAsync(ledger, name, exchange, key);
            }
        }
        finally
        {
            await cluster.StopAllSilosAsync();
            await cluster.DisposeAsync();
        }
    }
}
