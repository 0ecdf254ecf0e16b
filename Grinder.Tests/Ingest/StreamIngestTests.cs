using Grinder.FakeBinance;
using Grinder.Grains;
using Grinder.Grains.Ingest;
using Grinder.Grains.Ledger;
using Grinder.Tests.Infrastructure;
using Orleans.TestingHost;
using static Grinder.Tests.Ingest.IngestExpectations;

namespace Grinder.Tests.Ingest;

/// <summary>
/// The user data stream as a second feeder into the ledger, over real WebSockets to the fake exchange, with REST as
/// reconciliation. Each fault ends with the ledger equal to the exchange's trades, exactly, and the fake's write log
/// empty: no DELETE of a listenKey, no order endpoint.
/// </summary>
[Collection(StreamClusterCollection.Name)]
public sealed class StreamIngestTests(StreamClusterFixture fixture)
{
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(60);

    [Fact]
    public async Task Fills_arrive_through_the_stream_while_REST_lags_and_REST_then_adds_nothing()
    {
        var (account, key, grain) = await StreamingAccountAsync();
        fixture.Exchange.SetRestVisibilityLag(key, TimeSpan.FromMinutes(5));
        try
        {
            var trades = fixture.NewTrades(account, "BTCUSDT", 40, seed: 61, selfTradePairFraction: 0.2);
            await StreamDiagnostics.OnTimeoutAsync(() => CountedAsync(grain, trades.Count, Wait), fixture.Exchange, key, grain);

            // REST cannot see them yet: every row came through the stream.
            var rows = await RowsAsync(fixture.Ledger, account);
            Assert.Equal(trades.Count, rows.Count);
            Assert.All(rows, row => Assert.Equal(FillFeeder.Stream, row.FirstSeenBy));
            Assert.Equal(trades.Count, (await grain.GetSnapshotAsync()).StreamEvents!.GetValueOrDefault(StreamEventResult.Recorded));
        }
        finally
        {
            fixture.Exchange.SetRestVisibilityLag(key, TimeSpan.Zero);
            fixture.Exchange.RevealTrades(key);
        }

        await ReconciledAsync(grain);
        await AssertExactAsync(account, key, grain);
    }

    [Fact]
    public async Task Ten_percent_of_stream_events_dropped_are_recovered_by_REST_reconciliation()
    {
        var (account, key, grain) = await StreamingAccountAsync();
        fixture.Exchange.SetStreamFaults(new FakeStreamFaults(DropFraction: 0.1, Seed: 62), key);
        var trades = fixture.NewTrades(account, "ETHUSDT", 200, seed: 62);
        await CountedAsync(grain, trades.Count, Wait);

        var dropped = fixture.Exchange.DroppedStreamEvents(key);
        Assert.NotEmpty(dropped);
        var rows = (await RowsAsync(fixture.Ledger, account)).ToDictionary(row => new FakeTradeKey(row.Trade.Symbol, row.Trade.Id, row.Trade.Side == Grinder.Grains.Binance.FillSide.Buy ? "BUY" : "SELL"));
        Assert.All(dropped, missed => Assert.NotEqual(FillFeeder.Stream, rows[missed].FirstSeenBy));
        await AssertExactAsync(account, key, grain);
    }

    [Fact]
    public async Task A_fill_the_stream_dropped_that_REST_serves_only_after_a_higher_id_is_recovered_by_the_reconciliation_read()
    {
        var (account, key, grain) = await StreamingAccountAsync();
        fixture.Exchange.SetStreamFaults(new FakeStreamFaults(DropFraction: 1, Seed: 64), key);
        try
        {
            var trades = fixture.NewTrades(account, "BTCUSDT", 12, seed: 64);

            // Neither feeder sees three trades in the middle: the stream drops them and REST serves them only later, after
            // a reconciliation read has moved the position past them.
            Assert.Equal(3, fixture.Exchange.HideTrades(key, "BTCUSDT", trades[4].Id, trades[6].Id, FakeVisibility.Held));
            await Eventually.ReturnsAsync(
                grain.GetHealthAsync,
                health => health.Symbols.Single(s => s.Symbol == "BTCUSDT").LastTradeId == trades[^1].Id,
                Wait,
                "a reconciliation read to pass the hidden trades");
            Assert.Equal(trades.Count - 3, Count(await grain.GetSnapshotAsync()));

            fixture.Exchange.RevealTrades(key);
            var recovered = await CountedAsync(grain, trades.Count, Wait);
            Assert.Equal(3, recovered.Recovered);
            var rows = await RowsAsync(fixture.Ledger, account);
            Assert.Equal(
                trades.Skip(4).Take(3).Select(t => t.Id).Order(),
                rows.Where(row => row.FirstSeenBy == FillFeeder.Rescan).Select(row => row.Trade.Id).Order());
        }
        finally
        {
            fixture.Exchange.ClearStreamFaults();
            fixture.Exchange.RevealTrades(key);
        }

        await AssertExactAsync(account, key, grain);
    }

    [Fact]
    public async Task Duplicated_and_reordered_stream_events_record_each_fill_once()
    {
        var (account, key, grain) = await StreamingAccountAsync();
        fixture.Exchange.SetStreamFaults(new FakeStreamFaults(DuplicateFraction: 0.3, ReorderFraction: 0.3, Seed: 63), key);
        var trades = fixture.NewTrades(account, "BTCUSDT", 150, seed: 63, selfTradePairFraction: 0.1);
        await CountedAsync(grain, trades.Count, Wait);

        var snapshot = await PollsAsync(grain, 2);
        Assert.Equal(trades.Count, Count(snapshot));
        Assert.True(snapshot.StreamEvents!.GetValueOrDefault(StreamEventResult.Duplicate) > 0, "duplicated events were seen and not counted");
        await AssertExactAsync(account, key, grain);
    }

    [Fact]
    public async Task A_disconnect_during_a_burst_loses_nothing_and_the_stream_reconnects()
    {
        var (account, key, grain) = await StreamingAccountAsync();
        var before = (await grain.GetHealthAsync()).Stream!.Reconnects;
        fixture.Exchange.DisconnectStreamsAfterEvents(key, 15);
        var trades = fixture.NewTrades(account, "ETHUSDT", 120, seed: 64);

        await CountedAsync(grain, trades.Count, Wait);
        await Eventually.ReturnsAsync(grain.GetHealthAsync, health => health.Stream!.State == "connected" && health.Stream.Reconnects > before, Wait, "the stream to reconnect");
        await AssertExactAsync(account, key, grain);
    }

    [Fact]
    public async Task A_listen_key_that_expires_mid_run_is_replaced_and_no_fill_is_lost()
    {
        var (account, key, grain) = await StreamingAccountAsync();
        var oldKey = fixture.Exchange.ActiveListenKey(key);
        fixture.NewTrades(account, "BTCUSDT", 30, seed: 65);
        Assert.True(fixture.Exchange.ExpireListenKey(key));
        fixture.NewTrades(account, "BTCUSDT", 30, seed: 66);

        await Eventually.TrueAsync(
            () => Task.FromResult(fixture.Exchange.ActiveListenKey(key) is { } fresh && fresh != oldKey && fixture.Exchange.StreamConnections.Count > 0),
            Wait,
            "a new listenKey (POST again after listenKeyExpired)");
        await fixture.Exchange.WaitForStreamConnectionsAsync(key, 1, Wait);
        var after = fixture.NewTrades(account, "BTCUSDT", 30, seed: 67);
        await CountedAsync(grain, fixture.Exchange.TradeKeys(key).Count, Wait);
        await AssertExactAsync(account, key, grain);
        Assert.Contains(await RowsAsync(fixture.Ledger, account), row => row.Trade.Id == after[^1].Id);
    }

    [Fact]
    public async Task A_killed_silos_accounts_stream_again_on_the_survivors_and_count_exactly()
    {
        var accounts = new List<(string Account, string Key, IFillIngestGrain Grain)>();
        for (var i = 0; i < 3; i++)
        {
            accounts.Add(await StreamingAccountAsync());
        }

        var victim = fixture.Cluster.SecondarySilos.First();
        await fixture.Cluster.KillSiloAsync(victim);
        try
        {
            foreach (var (account, key, _) in accounts)
            {
                fixture.NewTrades(account, "BTCUSDT", 50, seed: 68, selfTradePairFraction: 0.1);
            }

            foreach (var (account, key, grain) in accounts)
            {
                await CountedAsync(grain, fixture.Exchange.TradeKeys(key).Count, TimeSpan.FromSeconds(90));
                await Eventually.ReturnsAsync(grain.GetHealthAsync, health => health.Stream?.State == "connected", Wait, $"{account}'s stream on a survivor");
                await AssertExactAsync(account, key, grain);
            }
        }
        finally
        {
            await fixture.Cluster.StartAdditionalSiloAsync();
        }
    }

    [Fact]
    public async Task A_REST_row_whose_amounts_differ_from_the_streamed_fill_keeps_the_first_values_and_is_counted_as_a_mismatch()
    {
        var (account, key, grain) = await StreamingAccountAsync();
        fixture.Exchange.SetRestVisibilityLag(key, TimeSpan.FromMinutes(5));
        fixture.Exchange.SetStreamFaults(new FakeStreamFaults(AlterFraction: 0.25, Seed: 71), key);
        IReadOnlyList<FakeTradeKey> altered;
        try
        {
            var trades = fixture.NewTrades(account, "ETHUSDT", 40, seed: 71);
            await StreamDiagnostics.OnTimeoutAsync(() => CountedAsync(grain, trades.Count, Wait), fixture.Exchange, key, grain);
            altered = fixture.Exchange.AlteredStreamEvents(key);
            Assert.NotEmpty(altered);
        }
        finally
        {
            fixture.Exchange.ClearStreamFaults();
            fixture.Exchange.SetRestVisibilityLag(key, TimeSpan.Zero);
            fixture.Exchange.RevealTrades(key);
        }

        // REST now serves the true rows: each altered one is a mismatch, counted once, and the streamed values stay.
        var snapshot = await Eventually.ReturnsAsync(grain.GetSnapshotAsync, s => s.AmountMismatches >= altered.Count, Wait, "the mismatches counted");
        await ReconciledAsync(grain);
        Assert.Equal(altered.Count, (await grain.GetSnapshotAsync()).AmountMismatches);
        Assert.Equal(40, Count(snapshot));
        var rest = fixture.Exchange.Trades(key, "ETHUSDT").ToDictionary(t => new FakeTradeKey(t.Symbol, t.Id, t.Side));
        var rows = await RowsAsync(fixture.Ledger, account);
        foreach (var row in rows)
        {
            var rowKey = new FakeTradeKey(row.Trade.Symbol, row.Trade.Id, row.Trade.Side == Grinder.Grains.Binance.FillSide.Buy ? "BUY" : "SELL");
            Assert.Equal(FillFeeder.Stream, row.FirstSeenBy);
            Assert.Equal(altered.Contains(rowKey), row.Trade.Commission != rest[rowKey].Commission);
        }

        Assert.Equal(altered.Count, fixture.Logs.Event("FILL_AMOUNT_MISMATCH").Count(line => line.Message.Contains($"account={account} ", StringComparison.Ordinal)));
        await LedgerEqualsExchangeAsync(fixture.Ledger, account, fixture.Exchange, key);
    }

    [Fact]
    public async Task No_listen_key_reaches_a_log_line_a_scrape_or_the_health_of_an_account()
    {
        var (account, key, grain) = await StreamingAccountAsync();
        fixture.NewTrades(account, "ETHUSDT", 10, seed: 69);
        await CountedAsync(grain, 10, Wait);
        var listenKey = fixture.Exchange.ActiveListenKey(key);
        Assert.False(string.IsNullOrEmpty(listenKey));

        var health = System.Text.Json.JsonSerializer.Serialize(await grain.GetHealthAsync());
        var snapshot = System.Text.Json.JsonSerializer.Serialize(await grain.GetSnapshotAsync());
        Assert.DoesNotContain(listenKey, health, StringComparison.Ordinal);
        Assert.DoesNotContain(listenKey, snapshot, StringComparison.Ordinal);
        Assert.DoesNotContain(fixture.Logs.Lines, line => line.Message.Contains(listenKey, StringComparison.Ordinal) || (line.Exception?.Contains(listenKey, StringComparison.Ordinal) ?? false));
        var state = await fixture.Database.ScalarAsync<string>("SELECT string_agg(state::text, '') FROM grinder_grain_state_json");
        Assert.DoesNotContain(listenKey, state ?? string.Empty, StringComparison.Ordinal);
        Assert.Empty(fixture.Exchange.WriteAttempts);
    }

    [Fact]
    public async Task An_exchange_without_a_stream_endpoint_means_REST_polling_with_no_failed_polls()
    {
        var account = "nostream-" + Guid.NewGuid().ToString("N")[..6];
        var key = IngestClusterFixture.KeyOf(account);
        fixture.Exchange.AddAccount(key, IngestClusterFixture.SecretOf(account));
        var refused = $"ws://127.0.0.1:{FreePorts.Next()}/";
        TestCluster cluster = await IngestClusterFixture.StartClusterAsync(
            fixture.Database.ConnectionString,
            "nostream-" + account,
            silos: 1,
            fixture.Exchange.BaseUrl,
            [account],
            settings: new Dictionary<string, string> { ["Grinder:Stream:Enabled"] = "true", ["Grinder:Binance:StreamUrl"] = refused });
        try
        {
            var grain = cluster.Client.GetGrain<IFillIngestGrain>(ConfiguredAccount.GrainKeyFor(account));
            var trades = fixture.NewTrades(account, "BTCUSDT", 25, seed: 70);
            await CountedAsync(grain, trades.Count, Wait);
            var health = await grain.GetHealthAsync();
            Assert.NotEqual("connected", health.Stream!.State);
            Assert.NotNull(health.Stream.LastError);

            var snapshot = await PollsAsync(grain, 3);
            Assert.Empty(snapshot.Errors);
            Assert.False(snapshot.StreamConnected);
            await LedgerEqualsExchangeAsync(IngestClusterFixture.LedgerOf(cluster), account, fixture.Exchange, key);
        }
        finally
        {
            await cluster.StopAllSilosAsync();
            await cluster.DisposeAsync();
        }
    }

    private async Task<(string Account, string Key, IFillIngestGrain Grain)> StreamingAccountAsync()
    {
        var account = fixture.TakeAccount();
        var key = IngestClusterFixture.KeyOf(account);
        var grain = fixture.Account(account);

        // Settled first: an account still moving to its owner (the cluster just started, or a silo just joined) stops its
        // stream on one silo and opens it on another, and a trade published in between reaches no stream.
        await Activations.OnTheirOwnersAsync(fixture.Cluster, [account], Wait, $"{account} on its owner");
        await Eventually.ReturnsAsync(grain.GetHealthAsync, health => health.Stream?.State == "connected", Wait, $"{account}'s stream to connect");

        // The client sees its socket open before the exchange files the connection for events: a trade published in
        // between reaches no stream, and with REST held back that test would wait for it in vain.
        await fixture.Exchange.WaitForStreamConnectionsAsync(key, 1, Wait);
        return (account, key, grain);
    }

    // One full reconciliation round after the faults: every symbol read by REST since now.
    private static async Task ReconciledAsync(IFillIngestGrain grain)
    {
        var since = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();
        await Eventually.ReturnsAsync(grain.GetHealthAsync, health => health.Symbols.All(symbol => symbol.LastRestReadMs > since), Wait, "a reconciliation round");
    }

    private async Task AssertExactAsync(string account, string key, IFillIngestGrain grain)
    {
        await ReconciledAsync(grain);
        IngestExpectations.Equal(
            Totals(IngestClusterFixture.Symbols.SelectMany(symbol => fixture.Exchange.Trades(key, symbol))),
            (await grain.GetSnapshotAsync()).Fills);
        await LedgerEqualsExchangeAsync(fixture.Ledger, account, fixture.Exchange, key);
        Assert.Empty(fixture.Exchange.WriteAttempts);
    }
}
