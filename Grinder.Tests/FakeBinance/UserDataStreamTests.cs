using System.Net;
using System.Net.WebSockets;
using System.Text.Json;
using Grinder.FakeBinance;

namespace Grinder.Tests.FakeBinance;

/// <summary>The user data stream over real sockets: both URL forms, ORDER_TRADE_UPDATE per trade, listenKeyExpired, refused
/// handshakes, the connection lifetime and server pings.</summary>
[Collection(FakeBinanceCollection.Name)]
public sealed class UserDataStreamTests(FakeExchangeFixture fixture)
{
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(10);

    private FakeExchange Exchange => fixture.Exchange;

    private HttpClient Http => fixture.Http;

    [Fact]
    public async Task Every_trade_is_pushed_as_an_order_trade_update_with_binance_fields_including_both_rows_of_a_self_trade()
    {
        var account = fixture.NewAccount();
        var key = await ListenKeys.PostAsync(Http, account.ApiKey);
        await using var client = await StreamClient.ConnectAsync(ListenKeys.SingleUrl(Exchange, key));
        await Exchange.WaitForStreamConnectionsAsync(account.ApiKey, 1, Wait);

        var rebate = Exchange.AddTrade(account.ApiKey, new FakeTrade("BTCUSDT", 0, 0, "SELL", 60000.5m, 0.002m, 120.001m, -1.25m, -0.006m, "USDT", 0, false, true, "SHORT"));
        var free = Exchange.AddTrade(account.ApiKey, new FakeTrade("ETHUSDT", 0, 0, "BUY", 3000m, 1m, 3000m, 0m, 0m, "USDT", 0, true, false, "BOTH"));
        var pair = Exchange.GenerateTrades(account.ApiKey, "BTCUSDT", 1, seed: 30, selfTradePairFraction: 1);
        var events = await client.ReceiveManyAsync(4, Wait);

        var first = events[0];
        var o = first.GetProperty("o");
        Assert.Equal("ORDER_TRADE_UPDATE", first.GetProperty("e").GetString());
        Assert.Equal(JsonValueKind.Number, first.GetProperty("E").ValueKind);
        Assert.Equal(rebate.TimeMs, first.GetProperty("T").GetInt64());
        Assert.Equal("BTCUSDT", o.GetProperty("s").GetString());
        Assert.Equal("SELL", o.GetProperty("S").GetString());
        Assert.Equal(rebate.OrderId, o.GetProperty("i").GetInt64());
        Assert.Equal("TRADE", o.GetProperty("x").GetString());
        Assert.Equal("FILLED", o.GetProperty("X").GetString());
        Assert.Equal(rebate.Id, o.GetProperty("t").GetInt64());
        Assert.Equal("0.002", o.GetProperty("l").GetString());
        Assert.Equal("60000.5", o.GetProperty("L").GetString());
        Assert.Equal("-0.006", o.GetProperty("n").GetString());
        Assert.Equal("USDT", o.GetProperty("N").GetString());
        Assert.True(o.GetProperty("m").GetBoolean());
        Assert.Equal("-1.25", o.GetProperty("rp").GetString());
        Assert.Equal("SHORT", o.GetProperty("ps").GetString());
        Assert.Equal(rebate.TimeMs, o.GetProperty("T").GetInt64());

        var noFee = events[1].GetProperty("o");
        Assert.Equal(free.Id, noFee.GetProperty("t").GetInt64());
        Assert.False(noFee.TryGetProperty("n", out _));
        Assert.False(noFee.TryGetProperty("N", out _));

        Assert.Equal(2, pair.Count);
        Assert.Equal(pair.Select(t => new FakeTradeKey(t.Symbol, t.Id, t.Side)), events[2..].Select(StreamClient.KeyOf));
    }

    [Fact]
    public async Task A_combined_connection_carries_several_accounts_wrapped_as_stream_and_data_and_honours_events()
    {
        var a = fixture.NewAccount();
        var b = fixture.NewAccount();
        var c = fixture.NewAccount();
        var keyA = await ListenKeys.PostAsync(Http, a.ApiKey);
        var keyB = await ListenKeys.PostAsync(Http, b.ApiKey);
        var keyC = await ListenKeys.PostAsync(Http, c.ApiKey);
        var url = new Uri(Exchange.StreamBaseUrl, $"private/stream?listenKey={keyA}&events=ORDER_TRADE_UPDATE&listenKey={keyB}&events=ACCOUNT_UPDATE&listenKey={keyC}");
        await using var client = await StreamClient.ConnectAsync(url);
        await Exchange.WaitForStreamConnectionsAsync(c.ApiKey, 1, Wait);

        var tradeB = Exchange.AddTrade(b.ApiKey, new FakeTrade("BTCUSDT", 0, 0, "BUY", 1m, 1m, 1m, 0m, 0.1m, "USDT", 0, true, false, "BOTH"));
        var tradeA = Exchange.AddTrade(a.ApiKey, new FakeTrade("BTCUSDT", 0, 0, "BUY", 1m, 1m, 1m, 0m, 0.1m, "USDT", 0, true, false, "BOTH"));
        var tradeC = Exchange.AddTrade(c.ApiKey, new FakeTrade("ETHUSDT", 0, 0, "SELL", 1m, 1m, 1m, 0m, 0.1m, "USDT", 0, false, false, "BOTH"));
        var messages = await client.ReceiveManyAsync(2, Wait);

        // b asked for ACCOUNT_UPDATE only, so its trade never came: a's trade (added after it) is the first message.
        Assert.Equal(keyA, messages[0].GetProperty("stream").GetString());
        Assert.Equal(tradeA.Id, messages[0].GetProperty("data").GetProperty("o").GetProperty("t").GetInt64());
        Assert.Equal(keyC, messages[1].GetProperty("stream").GetString());
        Assert.Equal(tradeC.Id, messages[1].GetProperty("data").GetProperty("o").GetProperty("t").GetInt64());
        Assert.NotEqual(0, tradeB.Id);
        var connection = Assert.Single(Exchange.StreamConnections, s => s.ApiKeys.Contains(a.ApiKey));
        Assert.Equal("/private/stream", connection.Path);
        Assert.Equal(3, connection.ApiKeys.Count);
    }

    [Fact]
    public async Task Handshakes_with_an_unknown_key_a_second_key_on_the_single_form_or_a_retired_path_are_refused()
    {
        var account = fixture.NewAccount();
        var key = await ListenKeys.PostAsync(Http, account.ApiKey);

        var unknown = await StreamClient.RefusedStatusAsync(ListenKeys.SingleUrl(Exchange, "no-such-key"));
        var twoKeys = await StreamClient.RefusedStatusAsync(new Uri(Exchange.StreamBaseUrl, $"private/ws?listenKey={key}&listenKey={key}"));
        var legacy = await StreamClient.RefusedStatusAsync(new Uri(Exchange.StreamBaseUrl, $"ws/{key}"));
        var legacyCombined = await StreamClient.RefusedStatusAsync(new Uri(Exchange.StreamBaseUrl, $"stream?streams={key}"));
        var plainHttp = await Http.GetAsync($"private/ws?listenKey={key}");
        var unknownBody = await StreamClient.RefusedStatusAsync(new Uri(Exchange.StreamBaseUrl, "private/ws"));

        Assert.Equal(400, unknown);
        Assert.Equal(-1125, Exchange.Requests.Last(r => r.Path == "/private/ws" && r.Query.Contains("no-such-key", StringComparison.Ordinal)).ErrorCode);
        Assert.Equal(400, twoKeys);
        Assert.Equal(410, legacy);
        Assert.Equal(410, legacyCombined);
        Assert.Equal(HttpStatusCode.BadRequest, plainHttp.StatusCode);
        Assert.Equal(400, unknownBody);
        Assert.DoesNotContain(Exchange.StreamConnections, c => c.ApiKeys.Contains(account.ApiKey));
    }

    [Fact]
    public async Task An_expired_key_gets_listen_key_expired_then_no_more_events_while_the_connection_stays_open()
    {
        var account = fixture.NewAccount();
        var key = await ListenKeys.PostAsync(Http, account.ApiKey);
        await using var client = await StreamClient.ConnectAsync(ListenKeys.SingleUrl(Exchange, key));
        await Exchange.WaitForStreamConnectionsAsync(account.ApiKey, 1, Wait);

        Assert.True(Exchange.ExpireListenKey(account.ApiKey));
        var expired = await client.ReceiveAsync(Wait);
        var put = await ListenKeys.SendAsync(Http, HttpMethod.Put, account.ApiKey);
        var fresh = await ListenKeys.PostAsync(Http, account.ApiKey);
        await using var second = await StreamClient.ConnectAsync(ListenKeys.SingleUrl(Exchange, fresh));
        await Exchange.WaitForStreamConnectionsAsync(account.ApiKey, 1, Wait);
        var trade = Exchange.GenerateTrades(account.ApiKey, "BTCUSDT", 1, seed: 31)[0];
        var onFresh = await second.ReceiveAsync(Wait);
        var oldConnection = Assert.Single(Exchange.StreamConnections, c => c.ApiKeys.Contains(account.ApiKey) && c.LiveApiKeys.Count == 0);
        var stateBeforeClose = client.State;
        Exchange.DisconnectStream(oldConnection.Id, abort: false);

        // FIFO outbox: had the trade been queued on the old connection it would come before the close frame.
        var afterExpiry = await client.ReceiveUntilEndAsync(Wait);

        Assert.Equal("listenKeyExpired", expired!.Value.GetProperty("e").GetString());
        Assert.Equal(JsonValueKind.String, expired.Value.GetProperty("E").ValueKind);
        Assert.Equal(key, expired.Value.GetProperty("listenKey").GetString());
        Assert.Equal(HttpStatusCode.BadRequest, put.StatusCode);
        Assert.NotEqual(key, fresh);
        Assert.Equal(trade.Id, onFresh!.Value.GetProperty("o").GetProperty("t").GetInt64());
        Assert.Equal(WebSocketState.Open, stateBeforeClose);
        Assert.Empty(afterExpiry);
        Assert.Equal(WebSocketCloseStatus.EndpointUnavailable, client.CloseStatus);
    }

    [Fact]
    public async Task A_key_left_without_keep_alive_expires_by_itself_and_is_announced()
    {
        await using var exchange = await FakeExchange.StartAsync(new FakeExchangeOptions { ListenKeyValidity = TimeSpan.FromMilliseconds(500) });
        using var http = new HttpClient { BaseAddress = exchange.BaseUrl };
        exchange.AddAccount("short-key", "short-secret");
        var key = await ListenKeys.PostAsync(http, "short-key");
        await using var client = await StreamClient.ConnectAsync(ListenKeys.SingleUrl(exchange, key));

        var expired = await client.ReceiveAsync(Wait);

        Assert.Equal("listenKeyExpired", expired!.Value.GetProperty("e").GetString());
        Assert.Null(exchange.ActiveListenKey("short-key"));
        Assert.Equal(WebSocketState.Open, client.State);
    }

    [Fact]
    public async Task A_connection_is_closed_with_1001_at_its_maximum_lifetime()
    {
        await using var exchange = await FakeExchange.StartAsync(new FakeExchangeOptions { StreamMaxConnectionLifetime = TimeSpan.FromMilliseconds(500) });
        using var http = new HttpClient { BaseAddress = exchange.BaseUrl };
        exchange.AddAccount("life-key", "life-secret");
        var key = await ListenKeys.PostAsync(http, "life-key");
        await using var client = await StreamClient.ConnectAsync(ListenKeys.SingleUrl(exchange, key));

        var messages = await client.ReceiveUntilEndAsync(Wait);

        Assert.Empty(messages);
        Assert.False(client.Dropped);
        Assert.Equal(WebSocketCloseStatus.EndpointUnavailable, client.CloseStatus);
        Assert.Equal(key, exchange.ActiveListenKey("life-key"));
    }

    [Fact]
    public async Task The_server_pings_and_drops_a_client_that_does_not_pong_while_a_client_that_pongs_stays()
    {
        await using var exchange = await FakeExchange.StartAsync(new FakeExchangeOptions
        {
            StreamPingInterval = TimeSpan.FromMilliseconds(100),
            StreamPongTimeout = TimeSpan.FromMilliseconds(400),
        });
        using var http = new HttpClient { BaseAddress = exchange.BaseUrl };
        exchange.AddAccount("ping-key", "ping-secret");
        var key = await ListenKeys.PostAsync(http, "ping-key");
        var url = ListenKeys.SingleUrl(exchange, key);
        await using var answering = await RawWebSocket.ConnectAsync(url);
        await using var silent = await RawWebSocket.ConnectAsync(url);
        await using var managed = await StreamClient.ConnectAsync(url);

        // ClientWebSocket handles control frames inside ReceiveAsync: a receive must be pending for its automatic pongs.
        var pushed = managed.ReceiveAsync(TimeSpan.FromSeconds(30));
        using var answeredPing = new SemaphoreSlim(0);
        using var stop = new CancellationTokenSource();
        var answeringLoop = Task.Run(async () =>
        {
            while (!stop.IsCancellationRequested && await answering.NextPingAsync(answer: true, Wait))
            {
                answeredPing.Release();
            }
        });

        // The silent client sees pings, answers none, and is dropped after the pong timeout.
        var silentFirstPing = await silent.NextPingAsync(answer: false, Wait);
        var silentPings = 1;
        while (await silent.NextPingAsync(answer: false, Wait))
        {
            silentPings++;
        }

        // The answering client gets ten more pings after that (1 s, over twice the timeout), so it was never dropped.
        while (answeredPing.CurrentCount > 0)
        {
            await answeredPing.WaitAsync();
        }

        var answeredAfterDrop = 0;
        while (answeredAfterDrop < 10 && await answeredPing.WaitAsync(Wait))
        {
            answeredAfterDrop++;
        }

        await stop.CancelAsync();

        // The managed client answered the server's pings by itself: it is still connected and gets an event.
        var trade = exchange.GenerateTrades("ping-key", "BTCUSDT", 1, seed: 32)[0];
        var message = await pushed;
        var open = exchange.StreamConnections.Count;

        Assert.True(silentFirstPing);
        Assert.InRange(silentPings, 1, 20);
        Assert.Equal(10, answeredAfterDrop);
        Assert.Equal(trade.Id, message!.Value.GetProperty("o").GetProperty("t").GetInt64());
        Assert.Equal(2, open);
        await answering.DisposeAsync();
        await answeringLoop.WaitAsync(Wait).ContinueWith(_ => { }, TaskScheduler.Default);
    }
}
