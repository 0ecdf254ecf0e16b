using Grinder.FakeBinance;
using Grinder.Grains;
using Grinder.Grains.Ingest;
using Grinder.Tests.Infrastructure;
using static Grinder.Tests.Ingest.IngestExpectations;

namespace Grinder.Tests.Ingest;

/// <summary>FillIngestGrain on a two-silo PostgreSQL cluster against the fake exchange over HTTP.</summary>
[Collection(IngestClusterCollection.Name)]
public sealed class FillIngestTests(IngestClusterFixture fixture)
{
    [Fact]
    public async Task Two_symbols_with_overlapping_ids_and_out_of_order_times_are_each_counted_once()
    {
        var account = fixture.TakeAccount();
        var key = IngestClusterFixture.KeyOf(account);
        var now = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();

        // Trade ids are per symbol (Binance docs): both symbols use the same id range. Times are not in id order.
        long[] offsets = [25_000, 5_000, 20_000, 10_000, 15_000];
        foreach (var symbol in IngestClusterFixture.Symbols)
        {
            for (var i = 0; i < offsets.Length; i++)
            {
                fixture.Exchange.AddTrade(key, new FakeTrade(symbol, 0, 0, i % 2 == 0 ? "BUY" : "SELL", 100m + i, 0.5m, 0m, 0m, i == 3 ? -0.01m : 0.02m, "USDT", now - offsets[i], i % 2 == 0, i % 3 == 0, "BOTH"));
            }
        }

        var trades = IngestClusterFixture.Symbols.SelectMany(symbol => fixture.Exchange.Trades(key, symbol)).ToList();
        Assert.Equal(trades.Count, trades.Select(t => (t.Symbol, t.Id)).Distinct().Count());
        Assert.Equal(offsets.Length, trades.Select(t => t.Id).Distinct().Count());

        var grain = fixture.Account(account);
        await CountedAsync(grain, trades.Count);
        var after = await PollsAsync(grain, 3);

        Assert.Equal(trades.Count, Count(after));
        IngestExpectations.Equal(Totals(trades), after.Fills);
        var health = await grain.GetHealthAsync();
        Assert.All(health.Symbols, symbol => Assert.Equal(fixture.Exchange.Trades(key, symbol.Symbol).Max(t => t.Id), symbol.LastTradeId));
        Assert.Equal(0.02m, health.RebatesByAsset["USDT"]); // one -0.01 commission per symbol: a rebate, never subtracted from fees
        await LedgerEqualsExchangeAsync(fixture.Ledger, account, fixture.Exchange, key);
    }

    [Fact]
    public async Task A_backlog_of_3500_rows_drains_over_pages_and_a_quiet_market_keeps_polls_and_saves_rising()
    {
        var account = fixture.TakeAccount();
        var key = IngestClusterFixture.KeyOf(account);
        fixture.NewTrades(account, "BTCUSDT", 3_500, seed: 35);
        var trades = fixture.Exchange.Trades(key, "BTCUSDT");
        Assert.Equal(3_500, trades.Count);

        var grain = fixture.Account(account);
        var drained = await CountedAsync(grain, trades.Count);
        IngestExpectations.Equal(Totals(trades), drained.Fills);

        // Paged with limit=1000 from the cursor (fromId), never a startTime of 0.
        var requests = fixture.Exchange.Requests.Where(r => r.ApiKey == key && r.Path == "/fapi/v1/userTrades" && r.Query.Contains("symbol=BTCUSDT", StringComparison.Ordinal)).ToList();
        Assert.True(requests.Count(r => r.Query.Contains("fromId=", StringComparison.Ordinal) && r.Query.Contains("limit=1000", StringComparison.Ordinal)) >= 3, "the backlog was read in several fromId pages of 1000");
        Assert.DoesNotContain(requests, r => r.Query.Contains("startTime=0&", StringComparison.Ordinal) || r.Query.EndsWith("startTime=0", StringComparison.Ordinal));

        // Quiet market: polls and saves keep rising, fill counters stay flat.
        var quietStart = await grain.GetSnapshotAsync();
        var quietEnd = await PollsAsync(grain, 3);
        Assert.True(Saves(quietEnd, CursorResult.Ok) >= Saves(quietStart, CursorResult.Ok) + 3);
        Assert.True(quietEnd.LastSaveUnixMs > quietStart.LastSaveUnixMs);
        IngestExpectations.Equal(drained.Fills, quietEnd.Fills);
        await LedgerEqualsExchangeAsync(fixture.Ledger, account, fixture.Exchange, key);
    }

    [Fact]
    public async Task A_silo_restart_reloads_the_cursor_recounts_nothing_and_finds_a_self_trades_second_row_served_after_it()
    {
        var account = fixture.TakeAccount();
        var key = IngestClusterFixture.KeyOf(account);
        fixture.NewTrades(account, "ETHUSDT", 120, seed: 7, selfTradePairFraction: 0.1);
        var grain = fixture.Account(account);
        await CountedAsync(grain, fixture.Exchange.Trades(key, "ETHUSDT").Count);

        // A self-trade split across two polls with the restart between them: its BUY row is served now, and a poll reads
        // it and moves the read position past its id; its SELL row (same id) is served only after the restart.
        var buy = fixture.Exchange.AddTrade(key, IngestClusterFixture.Row("BTCUSDT", 0, "BUY", 0));
        await Eventually.ReturnsAsync(grain.GetHealthAsync, health => health.Symbols.Single(s => s.Symbol == "BTCUSDT").LastTradeId == buy.Id, TimeSpan.FromSeconds(60), "the BUY row read");
        var before = await PollsAsync(grain, 1);
        var loadsBefore = before.CursorLoads.GetValueOrDefault(CursorResult.Ok);

        foreach (var silo in fixture.Cluster.Silos.ToList())
        {
            await fixture.Cluster.RestartSiloAsync(silo);
        }

        // Re-activated on a restarted silo by the keeper: the stored cursor was loaded and polling went on.
        await Eventually.ReturnsAsync(
            grain.GetSnapshotAsync,
            snapshot => snapshot.CursorLoads.GetValueOrDefault(CursorResult.Ok) > loadsBefore && snapshot.Polls > before.Polls + 1,
            TimeSpan.FromSeconds(60),
            "a cursor load after the restart and further polls");
        var sell = fixture.Exchange.AddTrade(key, IngestClusterFixture.Row("BTCUSDT", buy.Id, "SELL", buy.TimeMs));

        // The SELL row lies below the reloaded position: the trailing re-scan, whose state came back with the cursor, finds it.
        var trades = IngestClusterFixture.Symbols.SelectMany(symbol => fixture.Exchange.Trades(key, symbol)).ToList();
        await CountedAsync(grain, trades.Count);
        var after = await PollsAsync(grain, 2);
        Assert.Equal(trades.Count, Count(after));
        Assert.Equal(before.Recovered + 1, after.Recovered);
        IngestExpectations.Equal(Totals(trades), after.Fills);
        var pair = (await RowsAsync(fixture.Ledger, account)).Where(row => row.Trade.Symbol == "BTCUSDT" && row.Trade.Id == buy.Id).ToList();
        Assert.Equal(2, pair.Count);
        Assert.Equal(sell.TimeMs, Assert.Single(pair, row => row.Trade.Side == Grinder.Grains.Binance.FillSide.Sell).Trade.TimeMs);
        await LedgerEqualsExchangeAsync(fixture.Ledger, account, fixture.Exchange, key);
    }

    [Fact]
    public async Task A_cursor_reset_rereads_trades_and_counts_none_twice()
    {
        var account = fixture.TakeAccount();
        var key = IngestClusterFixture.KeyOf(account);
        fixture.NewTrades(account, "BTCUSDT", 60, seed: 11, selfTradePairFraction: 0.2);
        var trades = fixture.Exchange.Trades(key, "BTCUSDT");
        var grain = fixture.Account(account);
        await CountedAsync(grain, trades.Count);
        var mark = DateTimeOffset.UtcNow;

        await grain.ResetCursorAsync("BTCUSDT", DateTimeOffset.UtcNow.AddDays(-7));

        // The cursor went back to a time window, then caught up with the same trades again.
        var rereadDone = await Eventually.ReturnsAsync(
            grain.GetHealthAsync,
            health => health.Symbols.Single(s => s.Symbol == "BTCUSDT").LastTradeId == trades.Max(t => t.Id),
            TimeSpan.FromSeconds(60),
            "the reset cursor to catch up");
        Assert.Contains(fixture.Exchange.Requests, r => r.ApiKey == key && r.Time >= mark && r.Query.Contains("startTime=", StringComparison.Ordinal) && r.Query.Contains("symbol=BTCUSDT", StringComparison.Ordinal));
        var after = await PollsAsync(grain, 2);
        Assert.Equal(trades.Count, Count(after));
        IngestExpectations.Equal(Totals(trades), after.Fills);
        Assert.Equal(trades.Max(t => t.Id), rereadDone.Symbols.Single(s => s.Symbol == "BTCUSDT").ReadHighWaterId);
        await LedgerEqualsExchangeAsync(fixture.Ledger, account, fixture.Exchange, key);
    }

    [Fact]
    public async Task After_a_silo_is_killed_the_keepers_alone_bring_its_accounts_back_polling_on_a_survivor_within_60_seconds()
    {
        // Only the keepers may bring the accounts back: the test calls no account grain (a call activates it) and watches
        // progress in storage, and it kills a silo without the metrics grain (that grain's re-activation reads every account,
        // as /healthz does; neither runs here).
        var metricsHost = await Activations.OfMetricsGrainAsync(fixture.Grains);
        Assert.NotNull(metricsHost);
        var placed = await Activations.OfAccountsAsync(fixture.Grains, fixture.AllAccounts);
        var victim = fixture.Cluster.GetActiveSilos().First(silo => !silo.SiloAddress.Equals(metricsHost));
        var lost = placed.Where(pair => victim.SiloAddress.Equals(pair.Value)).Select(pair => ConfiguredAccount.GrainKeyFor(pair.Key)).ToList();
        Assert.NotEmpty(lost);

        await fixture.Cluster.KillSiloAsync(victim);
        try
        {
            // Two more saved polls of each lost account (one could be a write of the killed silo still landing).
            var baseline = await StoredPollsAsync(fixture.Database);

            // docs/architecture.md "Never stops polling": after a silo is killed, all its accounts poll again on a survivor within 60 s.
            await Eventually.TrueAsync(
                async () =>
                {
                    var polls = await StoredPollsAsync(fixture.Database);
                    return lost.All(grainKey => polls.GetValueOrDefault(grainKey) >= baseline.GetValueOrDefault(grainKey) + 2);
                },
                TimeSpan.FromSeconds(60),
                $"the {lost.Count} accounts of the killed silo to save two more polls");

            // The metrics grain never moved, so no re-activation of it read the accounts.
            Assert.Equal(metricsHost, await Activations.OfMetricsGrainAsync(fixture.Grains));
        }
        finally
        {
            await fixture.Cluster.StartAdditionalSiloAsync();
        }
    }
}
