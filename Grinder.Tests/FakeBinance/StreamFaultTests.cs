using System.Net.Http.Json;
using System.Text.Json;
using Grinder.FakeBinance;

namespace Grinder.Tests.FakeBinance;

/// <summary>Stream fault injection over real sockets: dropped, duplicated and reordered events, disconnects (now, one
/// connection, during a burst) and REST lagging the stream; in-process and through the control API.</summary>
[Collection(FakeBinanceCollection.Name)]
public sealed class StreamFaultTests(FakeExchangeFixture fixture)
{
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(10);

    private FakeExchange Exchange => fixture.Exchange;

    private HttpClient Http => fixture.Http;

    [Fact]
    public async Task Dropped_events_are_reported_and_the_received_and_dropped_events_together_are_the_trades_exactly()
    {
        var (account, client) = await ConnectAsync();
        await using var _ = client;
        Exchange.SetStreamFaults(new FakeStreamFaults(DropFraction: 0.3, Seed: 5), account.ApiKey);

        var trades = Exchange.GenerateTrades(account.ApiKey, "BTCUSDT", 40, seed: 40);
        var dropped = Exchange.DroppedStreamEvents(account.ApiKey);
        var received = (await client.ReceiveManyAsync(trades.Count - dropped.Count, Wait)).Select(StreamClient.KeyOf).ToList();
        Exchange.ClearStreamFaults();
        var marker = Exchange.GenerateTrades(account.ApiKey, "BTCUSDT", 1, seed: 41)[0];
        var next = StreamClient.KeyOf((await client.ReceiveAsync(Wait))!.Value);

        Assert.InRange(dropped.Count, 1, 39);
        Assert.Empty(received.Intersect(dropped));
        Assert.Equal(trades.Select(Key).ToHashSet(), received.Concat(dropped).ToHashSet());
        Assert.Equal(received.Count, received.Distinct().Count());
        Assert.Equal(Key(marker), next);
    }

    [Fact]
    public async Task Drops_are_reproducible_from_the_seed()
    {
        var first = await DroppedIdsAsync(seed: 9);
        var second = await DroppedIdsAsync(seed: 9);

        Assert.NotEmpty(first);
        Assert.Equal(first, second);
    }

    [Fact]
    public async Task Duplicated_events_arrive_twice_in_a_row()
    {
        var (account, client) = await ConnectAsync();
        await using var _ = client;
        Exchange.SetStreamFaults(new FakeStreamFaults(DuplicateFraction: 0.5, Seed: 6), account.ApiKey);

        var trades = Exchange.GenerateTrades(account.ApiKey, "BTCUSDT", 20, seed: 42);
        Exchange.ClearStreamFaults();
        var marker = Exchange.GenerateTrades(account.ApiKey, "BTCUSDT", 1, seed: 43)[0];
        var received = new List<FakeTradeKey>();
        while (received.LastOrDefault() != Key(marker))
        {
            received.Add(StreamClient.KeyOf((await client.ReceiveAsync(Wait))!.Value));
        }

        received.RemoveAt(received.Count - 1);
        Assert.Equal(trades.Select(Key), received.Distinct());
        Assert.InRange(received.Count - trades.Count, 1, 19);
        Assert.All(received.GroupBy(k => k), g => Assert.InRange(g.Count(), 1, 2));
        Assert.True(received.Zip(received.Skip(1)).Any(p => p.First == p.Second), "a duplicate follows its original");
    }

    [Fact]
    public async Task Reordered_events_all_arrive_but_not_in_trade_order()
    {
        var (account, client) = await ConnectAsync();
        await using var _ = client;
        Exchange.SetStreamFaults(new FakeStreamFaults(ReorderFraction: 0.4, Seed: 7), account.ApiKey);

        var trades = Exchange.GenerateTrades(account.ApiKey, "BTCUSDT", 30, seed: 44);
        var received = (await client.ReceiveManyAsync(trades.Count, Wait)).Select(StreamClient.KeyOf).ToList();
        Exchange.ClearStreamFaults();

        Assert.Equal(trades.Select(Key).ToHashSet(), received.ToHashSet());
        Assert.NotEqual(trades.Select(Key), received);
    }

    [Fact]
    public async Task A_held_event_with_nothing_after_it_is_released_after_the_hold_limit()
    {
        await using var exchange = await FakeExchange.StartAsync(new FakeExchangeOptions { StreamReorderHoldLimit = TimeSpan.FromMilliseconds(200) });
        using var http = new HttpClient { BaseAddress = exchange.BaseUrl };
        exchange.AddAccount("hold-key", "hold-secret");
        var key = await ListenKeys.PostAsync(http, "hold-key");
        await using var client = await StreamClient.ConnectAsync(ListenKeys.SingleUrl(exchange, key));
        await exchange.WaitForStreamConnectionsAsync("hold-key", 1, Wait);
        exchange.SetStreamFaults(new FakeStreamFaults(ReorderFraction: 1));

        var trade = exchange.GenerateTrades("hold-key", "BTCUSDT", 1, seed: 45)[0];
        var late = await client.ReceiveAsync(Wait);

        Assert.Equal(trade.Id, late!.Value.GetProperty("o").GetProperty("t").GetInt64());
    }

    [Fact]
    public async Task A_disconnect_during_a_burst_delivers_exactly_the_events_before_it_and_the_rest_reaches_no_one()
    {
        var (account, client) = await ConnectAsync();
        await using var _ = client;
        Exchange.DisconnectStreamsAfterEvents(account.ApiKey, 5);

        var trades = Exchange.GenerateTrades(account.ApiKey, "BTCUSDT", 20, seed: 46);
        var received = await client.ReceiveUntilEndAsync(Wait);

        Assert.Equal(trades.Take(5).Select(Key), received.Select(StreamClient.KeyOf));
        Assert.True(client.Dropped, "the connection ends without a close frame");
        Assert.DoesNotContain(Exchange.StreamConnections, c => c.ApiKeys.Contains(account.ApiKey));
    }

    [Fact]
    public async Task Disconnecting_one_connection_leaves_the_others_of_the_account_open()
    {
        var (account, first) = await ConnectAsync();
        await using var _ = first;
        await using var second = await StreamClient.ConnectAsync(ListenKeys.SingleUrl(Exchange, Exchange.ActiveListenKey(account.ApiKey)!));
        await Exchange.WaitForStreamConnectionsAsync(account.ApiKey, 2, Wait);
        var target = Exchange.StreamConnections.Where(c => c.ApiKeys.Contains(account.ApiKey)).MinBy(c => c.Id)!;

        Assert.True(Exchange.DisconnectStream(target.Id));
        var firstEnd = await first.ReceiveUntilEndAsync(Wait);
        var trade = Exchange.GenerateTrades(account.ApiKey, "BTCUSDT", 1, seed: 47)[0];
        var onSecond = await second.ReceiveAsync(Wait);
        var all = Exchange.DisconnectStreams(account.ApiKey, abort: false);
        var secondEnd = await second.ReceiveUntilEndAsync(Wait);

        Assert.Empty(firstEnd);
        Assert.True(first.Dropped);
        Assert.Equal(trade.Id, onSecond!.Value.GetProperty("o").GetProperty("t").GetInt64());
        Assert.Equal(1, all);
        Assert.Empty(secondEnd);
        Assert.False(second.Dropped);
        Assert.False(Exchange.DisconnectStream(target.Id));
    }

    [Fact]
    public async Task With_rest_lagging_a_trade_is_pushed_at_once_and_served_by_userTrades_only_later()
    {
        var (account, client) = await ConnectAsync();
        await using var _ = client;
        Exchange.SetRestVisibilityLag(account.ApiKey, TimeSpan.FromHours(1));

        var trade = Exchange.GenerateTrades(account.ApiKey, "BTCUSDT", 1, seed: 48)[0];
        var pushed = await client.ReceiveAsync(Wait);
        var rest = await Signed.RowsAsync(await Signed.UserTradesAsync(Http, account, "symbol=BTCUSDT&fromId=1", Signed.NowMs(Exchange)));
        var hidden = Exchange.HiddenTradeCount(account.ApiKey);
        Exchange.RevealTrades(account.ApiKey);
        var later = await Signed.RowsAsync(await Signed.UserTradesAsync(Http, account, "symbol=BTCUSDT&fromId=1", Signed.NowMs(Exchange)));

        Assert.Equal(trade.Id, pushed!.Value.GetProperty("o").GetProperty("t").GetInt64());
        Assert.Equal(0, rest.GetArrayLength());
        Assert.Equal(1, hidden);
        Assert.Equal([trade.Id], Signed.Ids(later));
    }

    [Fact]
    public async Task An_altered_event_disagrees_with_the_rest_row_which_keeps_the_true_amounts()
    {
        var (account, client) = await ConnectAsync();
        await using var _ = client;
        Exchange.SetStreamFaults(new FakeStreamFaults(AlterFraction: 1), account.ApiKey);

        var trade = Exchange.AddTrade(account.ApiKey, new FakeTrade("BTCUSDT", 0, 0, "BUY", 100m, 1m, 100m, 0.5m, 0.04m, "USDT", 0, true, false, "BOTH"));
        var pushed = (await client.ReceiveAsync(Wait))!.Value.GetProperty("o");
        var row = (await Signed.RowsAsync(await Signed.UserTradesAsync(Http, account, "symbol=BTCUSDT&fromId=1", Signed.NowMs(Exchange))))[0];
        Exchange.ClearStreamFaults();

        Assert.Equal("0.05", pushed.GetProperty("n").GetString());
        Assert.Equal("1.5", pushed.GetProperty("rp").GetString());
        Assert.Equal("0.04", row.GetProperty("commission").GetString());
        Assert.Equal("0.5", row.GetProperty("realizedPnl").GetString());
        Assert.Equal([new FakeTradeKey("BTCUSDT", trade.Id, "BUY")], Exchange.AlteredStreamEvents(account.ApiKey));
    }

    [Theory]
    [InlineData(FakeStreamRefusal.HandshakeUnavailable, 503)]
    [InlineData(FakeStreamRefusal.EndpointMissing, 404)]
    public async Task A_refused_handshake_answers_its_status_until_the_refusal_is_lifted(FakeStreamRefusal refusal, int status)
    {
        // An own exchange: EndpointMissing for every account would break the shared one's other tests.
        await using var exchange = await FakeExchange.StartAsync();
        exchange.AddAccount("refused-key", "refused-secret");
        using var http = new HttpClient { BaseAddress = exchange.BaseUrl };
        var key = await ListenKeys.PostAsync(http, "refused-key");

        exchange.RefuseStreams(refusal, refusal == FakeStreamRefusal.EndpointMissing ? null : "refused-key");
        var refused = await StreamClient.RefusedStatusAsync(ListenKeys.SingleUrl(exchange, key));
        exchange.RefuseStreams(FakeStreamRefusal.None);
        await using var client = await StreamClient.ConnectAsync(ListenKeys.SingleUrl(exchange, key));

        Assert.Equal(status, refused);
        Assert.Equal(System.Net.WebSockets.WebSocketState.Open, client.State);
    }

    [Fact]
    public async Task A_forbidden_listen_key_and_a_connection_closed_after_the_upgrade_refuse_the_stream_for_one_account_only()
    {
        var refused = fixture.NewAccount();
        var other = fixture.NewAccount();
        var key = await ListenKeys.PostAsync(Http, refused.ApiKey);

        Exchange.RefuseStreams(FakeStreamRefusal.ListenKeyForbidden, refused.ApiKey);
        var post = await Signed.ErrorAsync(await ListenKeys.SendAsync(Http, HttpMethod.Post, refused.ApiKey), System.Net.HttpStatusCode.Unauthorized);
        var otherKey = await ListenKeys.PostAsync(Http, other.ApiKey);
        Exchange.RefuseStreams(FakeStreamRefusal.ClosedAfterUpgrade, refused.ApiKey);
        await using var closed = await StreamClient.ConnectAsync(ListenKeys.SingleUrl(Exchange, key));
        var end = await closed.ReceiveUntilEndAsync(Wait);
        await using var fine = await StreamClient.ConnectAsync(ListenKeys.SingleUrl(Exchange, otherKey));
        Exchange.RefuseStreams(FakeStreamRefusal.None, refused.ApiKey);

        Assert.Equal(-2015, post.Code);
        Assert.Empty(end);
        Assert.Equal(System.Net.WebSockets.WebSocketCloseStatus.PolicyViolation, closed.CloseStatus);
        Assert.Equal(System.Net.WebSockets.WebSocketState.Open, fine.State);
    }

    [Fact]
    public async Task The_control_api_drives_stream_faults_keys_and_disconnects()
    {
        await using var exchange = await FakeExchange.StartAsync();
        using var http = new HttpClient { BaseAddress = exchange.BaseUrl };
        exchange.AddAccount("ctl-stream-key", "ctl-stream-secret");
        var key = await ListenKeys.PostAsync(http, "ctl-stream-key");
        await using var client = await StreamClient.ConnectAsync(ListenKeys.SingleUrl(exchange, key));
        await exchange.WaitForStreamConnectionsAsync("ctl-stream-key", 1, Wait);

        var active = await http.GetFromJsonAsync<JsonElement>("_fake/listen-key?apiKey=ctl-stream-key");
        var streams = await http.GetFromJsonAsync<JsonElement>("_fake/streams");
        await PostAsync(http, "_fake/stream-faults", new { apiKey = "ctl-stream-key", dropFraction = 1.0, seed = 3 });
        var dropped = exchange.GenerateTrades("ctl-stream-key", "BTCUSDT", 2, seed: 49);
        var droppedList = await http.GetFromJsonAsync<JsonElement>("_fake/stream-dropped?apiKey=ctl-stream-key");
        await PostAsync(http, "_fake/stream-faults/clear", new { });
        await PostAsync(http, "_fake/listen-key/expire", new { apiKey = "ctl-stream-key" });
        var expired = await client.ReceiveAsync(Wait);
        var disconnected = await PostAsync(http, "_fake/streams/disconnect", new { apiKey = "ctl-stream-key", abort = false });
        var end = await client.ReceiveUntilEndAsync(Wait);
        var bad = await http.PostAsJsonAsync("_fake/stream-faults", new { dropFraction = 2.0 });
        var refusal = await PostAsync(http, "_fake/stream-refusal", new { refusal = "HandshakeUnavailable" });
        var refusedStatus = await StreamClient.RefusedStatusAsync(ListenKeys.SingleUrl(exchange, (await ListenKeys.PostAsync(http, "ctl-stream-key"))));
        await PostAsync(http, "_fake/stream-refusal", new { refusal = "None" });
        await PostAsync(http, "_fake/stream-faults", new { apiKey = "ctl-stream-key", alterFraction = 1.0 });
        exchange.GenerateTrades("ctl-stream-key", "BTCUSDT", 1, seed: 51);
        var altered = await http.GetFromJsonAsync<JsonElement>("_fake/stream-altered?apiKey=ctl-stream-key");

        Assert.Equal(key, active.GetProperty("listenKey").GetString());
        Assert.Equal("/private/ws", streams[0].GetProperty("path").GetString());
        Assert.Equal(2, droppedList.GetArrayLength());
        Assert.Equal(dropped[0].Id, droppedList[0].GetProperty("id").GetInt64());
        Assert.Equal("listenKeyExpired", expired!.Value.GetProperty("e").GetString());
        Assert.Equal(1, disconnected.GetProperty("disconnected").GetInt32());
        Assert.Empty(end);
        Assert.Equal(System.Net.HttpStatusCode.BadRequest, bad.StatusCode);
        Assert.Equal("HandshakeUnavailable", refusal.GetProperty("refusal").GetString());
        Assert.Equal(503, refusedStatus);
        Assert.Equal(1, altered.GetArrayLength());
    }

    private static FakeTradeKey Key(FakeTrade trade) => new(trade.Symbol, trade.Id, trade.Side);

    private async Task<(TestAccount Account, StreamClient Client)> ConnectAsync()
    {
        var account = fixture.NewAccount();
        var key = await ListenKeys.PostAsync(Http, account.ApiKey);
        var client = await StreamClient.ConnectAsync(ListenKeys.SingleUrl(Exchange, key));
        await Exchange.WaitForStreamConnectionsAsync(account.ApiKey, 1, Wait);
        return (account, client);
    }

    private static async Task<List<long>> DroppedIdsAsync(int seed)
    {
        await using var exchange = await FakeExchange.StartAsync();
        exchange.AddAccount("seed-key", "seed-secret");
        exchange.SetStreamFaults(new FakeStreamFaults(DropFraction: 0.5, Seed: seed));
        exchange.GenerateTrades("seed-key", "BTCUSDT", 30, seed: 50);
        return [.. exchange.DroppedStreamEvents("seed-key").Select(k => k.Id)];
    }

    private static async Task<JsonElement> PostAsync(HttpClient http, string path, object body)
    {
        var response = await http.PostAsJsonAsync(path, body);
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.IsSuccessStatusCode, $"{path}: {(int)response.StatusCode} {text}");
        return JsonDocument.Parse(text).RootElement;
    }
}
