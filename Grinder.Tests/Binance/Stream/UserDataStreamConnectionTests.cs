using Grinder.FakeBinance;
using Grinder.Grains.Binance;
using Grinder.Grains.Binance.Stream;
using Grinder.Tests.FakeBinance;
using static Grinder.Tests.Binance.Stream.StreamClientKit;

namespace Grinder.Tests.Binance.Stream;

/// <summary>The listenKey client and the user data stream connection against the fake exchange over real sockets.</summary>
[Collection(FakeBinanceCollection.Name)]
public sealed class UserDataStreamConnectionTests(FakeExchangeFixture fixture)
{
    [Fact]
    public async Task The_listen_key_client_posts_and_puts_with_the_api_key_only_and_reports_1125()
    {
        using var harness = new ClientHarness(fixture.Exchange.BaseUrl);
        var credentials = fixture.NewCredentials();
        var keys = harness.Services.GetRequiredService<ListenKeyClient>();

        var first = await keys.CreateAsync(credentials, CancellationToken.None);
        var again = await keys.CreateAsync(credentials, CancellationToken.None);
        var kept = await keys.KeepAliveAsync(credentials, CancellationToken.None);
        fixture.Exchange.ExpireListenKey(credentials.ApiKey, announce: false);
        var gone = await keys.KeepAliveAsync(credentials, CancellationToken.None);
        var requests = fixture.Exchange.Requests.Where(r => r.ApiKey == credentials.ApiKey).ToList();

        Assert.True(first.IsSuccess);
        Assert.Equal(first.ListenKey, again.ListenKey);
        Assert.Equal(first.ListenKey, kept.ListenKey);
        Assert.DoesNotContain(first.ListenKey!, first.ToString(), StringComparison.Ordinal);
        Assert.False(gone.IsSuccess);
        Assert.True(gone.KeyMissing);
        Assert.Equal(["POST", "POST", "PUT", "PUT"], requests.Select(r => r.Method));
        Assert.All(requests, r => Assert.Equal(string.Empty, r.Query));
        harness.AssertCleanRun(fixture.Exchange, credentials);
    }

    [Fact]
    public async Task Fills_arrive_as_parsed_trades_including_both_rows_of_a_self_trade_and_nothing_secret_is_logged()
    {
        using var harness = new ClientHarness(fixture.Exchange.BaseUrl);
        var credentials = fixture.NewCredentials();
        await using var stream = Create(harness, credentials, fixture.Exchange.StreamBaseUrl, FastOptions());
        stream.Start();
        var connected = await stream.Events.NextAsync<StreamConnected>();

        // The client sees the upgrade a moment before the exchange files the connection; a trade in between is missed (REST's job).
        await fixture.Exchange.WaitForStreamConnectionsAsync(credentials.ApiKey, 1, Wait);
        var keys = new HashSet<string>();
        keys.Remember(fixture.Exchange, credentials);

        var trades = fixture.Exchange.GenerateTrades(credentials.ApiKey, "BTCUSDT", 6, seed: 60, selfTradePairFraction: 0.5);
        var fills = await stream.Events.FillsAsync(trades.Count);
        var health = stream.Health;
        await stream.DisposeAsync();

        Assert.False(connected.Renewal);
        Assert.Contains(trades, t => trades.Count(u => u.Id == t.Id) == 2);
        Assert.Equal(trades.Select(Key), fills.Select(Key));
        var expected = trades[0];
        var fill = fills[0];
        Assert.Equal((expected.OrderId, expected.Price, expected.Qty, expected.RealizedPnl, expected.Commission, expected.CommissionAsset, expected.TimeMs, expected.PositionSide),
            (fill.OrderId, fill.Price, fill.Qty, fill.RealizedPnl, fill.Commission, fill.CommissionAsset, fill.TimeMs, fill.PositionSide));
        Assert.Equal(expected.Maker ? FillLiquidity.Maker : FillLiquidity.Taker, fill.Liquidity);
        Assert.Equal(UserDataStreamState.Connected, health.State);
        Assert.Equal(0, health.Reconnects);
        Assert.Equal(UserDataStreamState.Stopped, stream.Health.State);
        AssertNoSecretsAndNoWrites(harness, fixture.Exchange, credentials, keys);
    }

    [Fact]
    public async Task A_dropped_connection_is_reconnected_and_later_fills_arrive()
    {
        using var harness = new ClientHarness(fixture.Exchange.BaseUrl);
        var credentials = fixture.NewCredentials();
        await using var stream = Create(harness, credentials, fixture.Exchange.StreamBaseUrl, FastOptions());
        stream.Start();
        await stream.Events.NextAsync<StreamConnected>();
        await fixture.Exchange.WaitForStreamConnectionsAsync(credentials.ApiKey, 1, Wait);

        fixture.Exchange.DisconnectStreams(credentials.ApiKey, abort: true);
        var lost = await stream.Events.NextAsync<StreamDisconnected>();
        var back = await stream.Events.NextAsync<StreamConnected>();
        await fixture.Exchange.WaitForStreamConnectionsAsync(credentials.ApiKey, 1, Wait);
        var trade = fixture.Exchange.GenerateTrades(credentials.ApiKey, "ETHUSDT", 1, seed: 61)[0];
        var fill = (await stream.Events.FillsAsync(1))[0];

        Assert.StartsWith("connection lost", lost.Reason, StringComparison.Ordinal);
        Assert.False(back.Renewal);
        Assert.Equal(Key(trade), Key(fill));
        Assert.Equal(1, stream.Health.Reconnects);
        Assert.Equal(1, fixture.Exchange.Requests.Count(r => r.ApiKey == credentials.ApiKey && r.Method == "POST"));
    }

    [Fact]
    public async Task On_listen_key_expired_the_client_posts_again_and_reconnects_with_the_new_key()
    {
        using var harness = new ClientHarness(fixture.Exchange.BaseUrl);
        var credentials = fixture.NewCredentials();
        await using var stream = Create(harness, credentials, fixture.Exchange.StreamBaseUrl, FastOptions());
        stream.Start();
        await stream.Events.NextAsync<StreamConnected>();
        await fixture.Exchange.WaitForStreamConnectionsAsync(credentials.ApiKey, 1, Wait);
        var keys = new HashSet<string>();
        keys.Remember(fixture.Exchange, credentials);

        fixture.Exchange.ExpireListenKey(credentials.ApiKey);
        var lost = await stream.Events.NextAsync<StreamDisconnected>();
        await stream.Events.NextAsync<StreamConnected>();
        await fixture.Exchange.WaitForStreamConnectionsAsync(credentials.ApiKey, 1, Wait);
        keys.Remember(fixture.Exchange, credentials);
        var trade = fixture.Exchange.GenerateTrades(credentials.ApiKey, "BTCUSDT", 1, seed: 62)[0];
        var fill = (await stream.Events.FillsAsync(1))[0];

        Assert.Equal("listenKey expired", lost.Reason);
        Assert.Equal(2, keys.Count);
        Assert.Equal(Key(trade), Key(fill));
        Assert.Equal(2, fixture.Exchange.Requests.Count(r => r.ApiKey == credentials.ApiKey && r.Method == "POST"));
        Assert.Contains(harness.Logs.Named("STREAM_LISTEN_KEY_EXPIRED"), e => e.Message.Contains("listenKeyExpired event", StringComparison.Ordinal));
        AssertNoSecretsAndNoWrites(harness, fixture.Exchange, credentials, keys);
    }

    [Fact]
    public async Task The_key_is_kept_alive_by_put_and_a_1125_answer_makes_the_client_post_again()
    {
        using var harness = new ClientHarness(fixture.Exchange.BaseUrl);
        var credentials = fixture.NewCredentials();
        await using var stream = Create(harness, credentials, fixture.Exchange.StreamBaseUrl, FastOptions(o => o.ListenKeyKeepAlive = TimeSpan.FromMilliseconds(200)));
        stream.Start();
        await stream.Events.NextAsync<StreamConnected>();
        var keys = new HashSet<string>();
        keys.Remember(fixture.Exchange, credentials);
        await fixture.Exchange.WaitForRequestAsync(_ => PutCount(credentials) >= 2, Wait);

        // The expiry event is lost: only the next keep-alive's -1125 tells the client.
        fixture.Exchange.ExpireListenKey(credentials.ApiKey, announce: false);
        await stream.Events.NextAsync<StreamDisconnected>();
        await stream.Events.NextAsync<StreamConnected>();
        await fixture.Exchange.WaitForStreamConnectionsAsync(credentials.ApiKey, 1, Wait);
        keys.Remember(fixture.Exchange, credentials);
        var trade = fixture.Exchange.GenerateTrades(credentials.ApiKey, "BTCUSDT", 1, seed: 63)[0];
        var fill = (await stream.Events.FillsAsync(1))[0];

        Assert.Equal(2, keys.Count);
        Assert.Equal(Key(trade), Key(fill));
        Assert.Contains(fixture.Exchange.Requests, r => r.ApiKey == credentials.ApiKey && r.Method == "PUT" && r.ErrorCode == -1125);
        Assert.Contains(harness.Logs.Named("STREAM_LISTEN_KEY_EXPIRED"), e => e.Message.Contains("-1125", StringComparison.Ordinal));
        AssertNoSecretsAndNoWrites(harness, fixture.Exchange, credentials, keys);
    }

    [Fact]
    public async Task The_connection_is_renewed_before_its_lifetime_with_the_new_one_open_before_the_old_one_closes()
    {
        using var harness = new ClientHarness(fixture.Exchange.BaseUrl);
        var credentials = fixture.NewCredentials();
        await using var stream = Create(harness, credentials, fixture.Exchange.StreamBaseUrl, FastOptions(o => o.Renewal = TimeSpan.FromMilliseconds(500)));
        stream.Start();
        var before = new List<UserDataStreamEvent>();
        await stream.Events.NextAsync<StreamConnected>(before);
        await fixture.Exchange.WaitForStreamConnectionsAsync(credentials.ApiKey, 1, Wait);
        var firstConnection = fixture.Exchange.StreamConnections.Where(c => c.ApiKeys.Contains(credentials.ApiKey)).Min(c => c.Id);

        var renewed = await stream.Events.NextAsync<StreamConnected>(before);
        await fixture.Exchange.WaitForStreamConnectionsAsync(connections => connections.All(c => c.Id != firstConnection), Wait);
        var trade = fixture.Exchange.GenerateTrades(credentials.ApiKey, "BTCUSDT", 1, seed: 64)[0];
        var fill = (await stream.Events.FillsAsync(1, before))[0];

        Assert.True(renewed.Renewal);
        Assert.DoesNotContain(before, e => e is StreamDisconnected);
        Assert.Equal(Key(trade), Key(fill));
        Assert.True(stream.Health.Reconnects >= 1);
    }

    [Fact]
    public async Task The_client_answers_server_pings_by_itself_and_is_not_dropped()
    {
        await using var exchange = await FakeExchange.StartAsync(new FakeExchangeOptions
        {
            StreamPingInterval = TimeSpan.FromMilliseconds(100),
            StreamPongTimeout = TimeSpan.FromMilliseconds(400),
        });
        using var harness = new ClientHarness(exchange.BaseUrl);
        var credentials = new BinanceCredentials("pong-key", "pong-secret");
        exchange.AddAccount(credentials.ApiKey, credentials.ApiSecret);

        // Our own pings are rare here, so only answering the server's keeps the connection.
        await using var stream = Create(harness, credentials, exchange.StreamBaseUrl, FastOptions(o => o.SilenceLimit = TimeSpan.FromMinutes(10)));
        stream.Start();
        var seen = new List<UserDataStreamEvent>();
        await stream.Events.NextAsync<StreamConnected>(seen);

        // A witness that never answers: once the server dropped it, the pong timeout has passed at least once.
        await using var witness = await RawWebSocket.ConnectAsync(ListenKeys.SingleUrl(exchange, exchange.ActiveListenKey(credentials.ApiKey)!));
        while (await witness.NextPingAsync(answer: false, Wait))
        {
        }

        var trade = exchange.GenerateTrades(credentials.ApiKey, "BTCUSDT", 1, seed: 65)[0];
        var fill = (await stream.Events.FillsAsync(1, seen))[0];

        Assert.Equal(Key(trade), Key(fill));
        Assert.DoesNotContain(seen, e => e is StreamDisconnected);
        Assert.Equal(0, stream.Health.Reconnects);
    }

    [Fact]
    public async Task A_server_that_goes_silent_is_treated_as_dead_and_the_client_reconnects()
    {
        await using var silent = new SilentWebSocketServer();
        using var harness = new ClientHarness(fixture.Exchange.BaseUrl);
        var credentials = fixture.NewCredentials();
        await using var stream = Create(harness, credentials, silent.Url, FastOptions(o => o.SilenceLimit = TimeSpan.FromMilliseconds(600)));
        stream.Start();

        await silent.WaitForHandshakeAsync(1);
        await stream.Events.NextAsync<StreamConnected>();
        var dead = await stream.Events.NextAsync<StreamDisconnected>();
        await silent.WaitForHandshakeAsync(2);

        Assert.StartsWith("connection lost", dead.Reason, StringComparison.Ordinal);
        Assert.DoesNotContain(fixture.Exchange.ActiveListenKey(credentials.ApiKey)!, dead.Reason, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Without_a_stream_endpoint_the_client_backs_off_with_one_log_line_per_attempt()
    {
        using var harness = new ClientHarness(fixture.Exchange.BaseUrl);
        var credentials = fixture.NewCredentials();
        await using var stream = Create(harness, credentials, new Uri(fixture.Exchange.StreamBaseUrl, "no-stream-here/"), FastOptions());
        stream.Start();

        await fixture.Exchange.WaitForRequestAsync(_ => fixture.Exchange.Requests.Count(r => r.Path.StartsWith("/no-stream-here", StringComparison.Ordinal) && r.ApiKey is null) >= 4, Wait);
        var health = stream.Health;
        var failures = harness.Logs.Named("STREAM_CONNECT_FAILED");

        Assert.Contains(health.State, new[] { UserDataStreamState.Backoff, UserDataStreamState.Connecting });
        Assert.InRange(failures.Count, health.ConnectAttempts - 1, health.ConnectAttempts);
        Assert.All(failures, f => Assert.Contains("HTTP 404", f.Message, StringComparison.Ordinal));
        Assert.Equal(1, fixture.Exchange.Requests.Count(r => r.ApiKey == credentials.ApiKey && r.Method == "POST"));
        Assert.Contains("HTTP 404", health.LastError, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(FakeStreamRefusal.ListenKeyForbidden, "STREAM_LISTEN_KEY_FAILED")]
    [InlineData(FakeStreamRefusal.HandshakeUnavailable, "STREAM_CONNECT_FAILED")]
    [InlineData(FakeStreamRefusal.ClosedAfterUpgrade, "STREAM_DISCONNECTED")]
    public async Task A_refused_stream_backs_off_and_connects_once_the_refusal_is_lifted(FakeStreamRefusal refusal, string logged)
    {
        using var harness = new ClientHarness(fixture.Exchange.BaseUrl);
        var credentials = fixture.NewCredentials();
        fixture.Exchange.RefuseStreams(refusal, credentials.ApiKey);
        await using var stream = Create(harness, credentials, fixture.Exchange.StreamBaseUrl, FastOptions());
        stream.Start();

        await fixture.Exchange.WaitForRequestAsync(_ => harness.Logs.Named(logged).Count >= 3, Wait);
        var refusedHealth = stream.Health;
        fixture.Exchange.RefuseStreams(FakeStreamRefusal.None, credentials.ApiKey);
        await fixture.Exchange.WaitForStreamConnectionsAsync(credentials.ApiKey, 1, Wait);
        var trade = fixture.Exchange.GenerateTrades(credentials.ApiKey, "BTCUSDT", 1, seed: 66)[0];
        var fill = (await stream.Events.FillsAsync(1))[0];

        Assert.NotNull(refusedHealth.LastError);
        if (refusal == FakeStreamRefusal.ListenKeyForbidden)
        {
            // Without a key there is nothing to connect with.
            Assert.Equal(0, refusedHealth.ConnectAttempts);
        }
        else
        {
            Assert.InRange(refusedHealth.ConnectAttempts, 3, 1000);
        }
        Assert.Equal(Key(trade), Key(fill));
    }

    private int PutCount(BinanceCredentials credentials) =>
        fixture.Exchange.Requests.Count(r => r.ApiKey == credentials.ApiKey && r.Method == "PUT");
}
