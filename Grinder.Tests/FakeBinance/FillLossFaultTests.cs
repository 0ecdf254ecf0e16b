using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using Grinder.FakeBinance;
using Grinder.Grains.Binance;
using Microsoft.Extensions.Time.Testing;

namespace Grinder.Tests.FakeBinance;

/// <summary>The faults that reproduce the three fill losses (late-visible lower ids, a corrupt row with a huge id, a page with
/// another symbol's rows) and the out-of-order shapes, over real HTTP; and the fake's own notion of "the trades".</summary>
[Collection(FakeBinanceCollection.Name)]
public sealed class FillLossFaultTests(FakeExchangeFixture fixture)
{
    private FakeExchange Exchange => fixture.Exchange;

    private HttpClient Http => fixture.Http;

    [Fact]
    public async Task A_held_lower_id_is_missing_from_pages_but_counted_as_a_trade_until_revealed_then_served_by_fromId_and_time()
    {
        var account = fixture.NewAccount();
        var trades = Exchange.GenerateTrades(account.ApiKey, "BTCUSDT", 5, seed: 11);
        var ids = trades.Select(t => t.Id).ToArray();

        var hidden = Exchange.HideTrades(account.ApiKey, "BTCUSDT", ids[1], ids[2], FakeVisibility.Held);
        var whileHidden = Signed.Ids(await FromIdAsync(account, "BTCUSDT", ids[0]));
        var hiddenCount = Exchange.HiddenTradeCount(account.ApiKey);
        var keysWhileHidden = Exchange.TradeKeys(account.ApiKey);
        var revealed = Exchange.RevealTrades(account.ApiKey);
        var byId = Signed.Ids(await FromIdAsync(account, "BTCUSDT", ids[0]));
        var byTime = Signed.Ids(await Signed.RowsAsync(await Signed.UserTradesAsync(
            Http, account, $"symbol=BTCUSDT&startTime={trades[0].TimeMs}&endTime={trades[^1].TimeMs}", Signed.NowMs(Exchange))));

        Assert.Equal(2, hidden);
        Assert.Equal([ids[0], ids[3], ids[4]], whileHidden);
        Assert.Equal(2, hiddenCount);
        Assert.Equal(trades.Select(t => new FakeTradeKey(t.Symbol, t.Id, t.Side)).ToHashSet(), keysWhileHidden);
        Assert.Equal(5, Exchange.ValidTradeCount(account.ApiKey));
        Assert.Equal(2, revealed);
        Assert.Equal(ids, byId);
        Assert.Equal(ids, byTime);
        Assert.Equal(0, Exchange.HiddenTradeCount(account.ApiKey));
    }

    [Fact]
    public async Task A_late_trade_added_below_served_ids_becomes_visible_after_its_delay_on_the_exchange_clock()
    {
        var clock = new FakeTimeProvider(DateTimeOffset.UtcNow);
        await using var exchange = await FakeExchange.StartAsync(new FakeExchangeOptions { TimeProvider = clock });
        using var http = new HttpClient { BaseAddress = exchange.BaseUrl };
        var account = new TestAccount("late-key", "late-secret");
        exchange.AddAccount(account.ApiKey, account.ApiSecret);
        var first = exchange.AddTrade(account.ApiKey, Trade("BTCUSDT", id: 100, "BUY"));
        exchange.AddTrade(account.ApiKey, Trade("BTCUSDT", id: 102, "SELL"));
        var served = Signed.Ids(await Signed.RowsAsync(await Signed.UserTradesAsync(http, account, "symbol=BTCUSDT&fromId=100", Signed.NowMs(exchange))));

        var late = exchange.AddTrade(account.ApiKey, Trade("BTCUSDT", id: 101, "BUY") with { TimeMs = first.TimeMs }, FakeVisibility.After(TimeSpan.FromSeconds(30)));
        var beforeDelay = Signed.Ids(await Signed.RowsAsync(await Signed.UserTradesAsync(http, account, "symbol=BTCUSDT&fromId=100", Signed.NowMs(exchange))));
        clock.Advance(TimeSpan.FromSeconds(29));
        var almost = Signed.Ids(await Signed.RowsAsync(await Signed.UserTradesAsync(http, account, "symbol=BTCUSDT&fromId=100", Signed.NowMs(exchange))));
        clock.Advance(TimeSpan.FromSeconds(1));
        var after = Signed.Ids(await Signed.RowsAsync(await Signed.UserTradesAsync(http, account, "symbol=BTCUSDT&fromId=100", Signed.NowMs(exchange))));

        Assert.Equal([100, 102], served);
        Assert.Equal(101, late.Id);
        Assert.Equal([100, 102], beforeDelay);
        Assert.Equal([100, 102], almost);
        Assert.Equal([100, 101, 102], after);
    }

    [Fact]
    public async Task A_trade_hidden_for_two_requests_is_first_served_by_the_third_request_of_its_symbol()
    {
        var account = fixture.NewAccount();
        Exchange.GenerateTrades(account.ApiKey, "BTCUSDT", 2, seed: 12);
        Exchange.GenerateTrades(account.ApiKey, "ETHUSDT", 1, seed: 12);
        var late = Exchange.AddTrade(account.ApiKey, Trade("BTCUSDT", id: 0, "SELL"), FakeVisibility.AfterRequests(2));

        var counts = new List<int>();
        for (var i = 0; i < 3; i++)
        {
            // Requests of another symbol do not count against the hold.
            await FromIdAsync(account, "ETHUSDT", 1);
            counts.Add((await FromIdAsync(account, "BTCUSDT", 1)).GetArrayLength());
        }

        Assert.Equal([2, 2, 3], counts);
        Assert.Contains(new FakeTradeKey("BTCUSDT", late.Id, "SELL"), Exchange.TradeKeys(account.ApiKey));
    }

    [Fact]
    public async Task With_a_rest_lag_new_trades_exist_at_once_but_userTrades_serves_them_only_after_the_lag()
    {
        var clock = new FakeTimeProvider(DateTimeOffset.UtcNow);
        await using var exchange = await FakeExchange.StartAsync(new FakeExchangeOptions { TimeProvider = clock });
        using var http = new HttpClient { BaseAddress = exchange.BaseUrl };
        var account = new TestAccount("lag-key", "lag-secret");
        exchange.AddAccount(account.ApiKey, account.ApiSecret);
        exchange.GenerateTrades(account.ApiKey, "BTCUSDT", 2, seed: 13);

        exchange.SetRestVisibilityLag(account.ApiKey, TimeSpan.FromSeconds(5));
        exchange.GenerateTrades(account.ApiKey, "BTCUSDT", 3, seed: 14);
        var lagging = (await Signed.RowsAsync(await Signed.UserTradesAsync(http, account, "symbol=BTCUSDT&fromId=1", Signed.NowMs(exchange)))).GetArrayLength();
        var hidden = exchange.HiddenTradeCount(account.ApiKey);
        var trades = exchange.ValidTradeCount(account.ApiKey);
        clock.Advance(TimeSpan.FromSeconds(5));
        var caughtUp = (await Signed.RowsAsync(await Signed.UserTradesAsync(http, account, "symbol=BTCUSDT&fromId=1", Signed.NowMs(exchange)))).GetArrayLength();
        exchange.SetRestVisibilityLag(account.ApiKey, TimeSpan.Zero);
        exchange.GenerateTrades(account.ApiKey, "BTCUSDT", 1, seed: 15);
        var noLag = (await Signed.RowsAsync(await Signed.UserTradesAsync(http, account, "symbol=BTCUSDT&fromId=1", Signed.NowMs(exchange)))).GetArrayLength();

        Assert.Equal(2, lagging);
        Assert.Equal(3, hidden);
        Assert.Equal(5, trades);
        Assert.Equal(5, caughtUp);
        Assert.Equal(6, noLag);
    }

    [Theory]
    [InlineData(FakeCorruption.NaNCommission, "commission")]
    [InlineData(FakeCorruption.MissingPrice, "price")]
    [InlineData(FakeCorruption.NegativeQty, "qty")]
    public async Task A_corrupt_row_with_a_huge_id_is_served_in_id_order_fails_validation_and_is_not_a_trade(FakeCorruption corruption, string badField)
    {
        var account = fixture.NewAccount();
        var before = Exchange.GenerateTrades(account.ApiKey, "BTCUSDT", 3, seed: 16);

        Exchange.AddCorruptRow(account.ApiKey, "BTCUSDT", corruption);
        var after = Exchange.GenerateTrades(account.ApiKey, "BTCUSDT", 2, seed: 17);
        var response = await Signed.UserTradesAsync(Http, account, $"symbol=BTCUSDT&fromId={before[0].Id}", Signed.NowMs(Exchange));
        var body = await response.Content.ReadAsByteArrayAsync();
        var page = TradeRowParser.ParsePage(body, "BTCUSDT");
        var laterPage = Signed.Ids(await FromIdAsync(account, "BTCUSDT", after[0].Id));

        // New ids continue the real sequence, not the corrupt id: later real trades sit below it, as on the broken exchange.
        Assert.Equal(before[^1].Id + 1, after[0].Id);
        Assert.Equal([.. before.Select(t => t.Id), .. after.Select(t => t.Id), FakeExchange.HugeCorruptId], Signed.Ids(JsonDocument.Parse(body).RootElement));
        Assert.Equal(5, page.Trades.Count);
        var rejected = Assert.Single(page.Rejected);
        Assert.Equal(FakeExchange.HugeCorruptId, rejected.TradeId);
        Assert.Contains(badField, rejected.Reason, StringComparison.Ordinal);
        Assert.Equal([after[0].Id, after[1].Id, FakeExchange.HugeCorruptId], laterPage);
        Assert.Equal(5, Exchange.ValidTradeCount(account.ApiKey));
        Assert.DoesNotContain(Exchange.TradeKeys(account.ApiKey), k => k.Id == FakeExchange.HugeCorruptId);
    }

    [Fact]
    public async Task Foreign_symbol_rows_are_real_trades_of_the_other_symbol_merged_by_id_into_the_requested_page()
    {
        var account = fixture.NewAccount();
        var btc = Exchange.GenerateTrades(account.ApiKey, "BTCUSDT", 3, seed: 18);
        var eth = Exchange.GenerateTrades(account.ApiKey, "ETHUSDT", 8, seed: 18);
        Exchange.AddPageFault(new FakePageFault(FakePageFaultKind.ForeignSymbolRows, ApiKey: account.ApiKey, Symbol: "BTCUSDT", Times: 2, ForeignSymbol: "ETHUSDT"));

        var mixed = await FromIdAsync(account, "BTCUSDT", btc[0].Id);
        var cut = await Signed.RowsAsync(await Signed.UserTradesAsync(Http, account, $"symbol=BTCUSDT&fromId={btc[0].Id}&limit=4", Signed.NowMs(Exchange)));
        var clean = await FromIdAsync(account, "BTCUSDT", btc[0].Id);
        var ethPage = await FromIdAsync(account, "ETHUSDT", eth[0].Id);

        var rows = mixed.EnumerateArray().Select(r => (Symbol: r.GetProperty("symbol").GetString()!, Id: r.GetProperty("id").GetInt64())).ToList();
        Assert.Equal(11, rows.Count);
        Assert.Equal(rows.OrderBy(r => r.Id).ThenBy(r => r.Symbol == "BTCUSDT" ? 0 : 1).ToList(), rows);
        Assert.Equal(8, rows.Count(r => r.Symbol == "ETHUSDT"));
        Assert.True(rows.Max(r => r.Id) > btc[^1].Id, "the foreign rows must reach past the requested symbol's last id");
        Assert.Equal(4, cut.GetArrayLength());
        Assert.All(clean.EnumerateArray(), r => Assert.Equal("BTCUSDT", r.GetProperty("symbol").GetString()));
        Assert.Equal(8, ethPage.GetArrayLength());
        Assert.Equal(11, Exchange.TradeKeys(account.ApiKey).Count);
    }

    [Fact]
    public async Task Fabricated_rows_are_served_on_every_page_whatever_the_selection_and_are_not_trades()
    {
        var account = fixture.NewAccount();
        var btc = Exchange.GenerateTrades(account.ApiKey, "BTCUSDT", 2, seed: 19);
        var fabricated = Trade("ETHUSDT", id: 5_000_000, "BUY") with { OrderId = 1, TimeMs = 1 };
        Exchange.AddPageFault(new FakePageFault(FakePageFaultKind.FabricatedRows, ApiKey: account.ApiKey, Rows: [fabricated]));

        var first = Signed.Ids(await FromIdAsync(account, "BTCUSDT", btc[0].Id));
        var pastEverything = Signed.Ids(await FromIdAsync(account, "BTCUSDT", 6_000_000));
        var cleared = Exchange.ClearPageFaults();
        var clean = Signed.Ids(await FromIdAsync(account, "BTCUSDT", btc[0].Id));

        Assert.Equal([btc[0].Id, btc[1].Id, 5_000_000], first);
        Assert.Equal([5_000_000], pastEverything);
        Assert.Equal(1, cleared);
        Assert.Equal([btc[0].Id, btc[1].Id], clean);
        Assert.Equal(2, Exchange.TradeKeys(account.ApiKey).Count);
    }

    [Fact]
    public async Task A_shuffled_page_has_the_same_rows_out_of_id_order()
    {
        var account = fixture.NewAccount();
        var ids = Exchange.GenerateTrades(account.ApiKey, "BTCUSDT", 20, seed: 20).Select(t => t.Id).ToArray();
        Exchange.AddPageFault(new FakePageFault(FakePageFaultKind.Shuffled, ApiKey: account.ApiKey, Times: 1, Seed: 3));

        var shuffled = Signed.Ids(await FromIdAsync(account, "BTCUSDT", ids[0]));
        var next = Signed.Ids(await FromIdAsync(account, "BTCUSDT", ids[0]));

        Assert.NotEqual(ids, shuffled);
        Assert.Equal(ids, shuffled.Order());
        Assert.Equal(ids, next);
    }

    [Fact]
    public async Task Sell_before_buy_puts_the_sell_row_of_each_self_trade_first()
    {
        var account = fixture.NewAccount();
        var pairs = Exchange.GenerateTrades(account.ApiKey, "BTCUSDT", 4, seed: 21, selfTradePairFraction: 1);
        Exchange.AddPageFault(new FakePageFault(FakePageFaultKind.SellBeforeBuy, ApiKey: account.ApiKey, Symbol: "BTCUSDT"));

        var rows = await FromIdAsync(account, "BTCUSDT", pairs[0].Id);
        var sides = rows.EnumerateArray().Select(r => r.GetProperty("side").GetString()).ToArray();

        Assert.Equal(8, pairs.Count);
        Assert.Equal("BUY", pairs[0].Side);
        Assert.Equal(Enumerable.Range(0, 4).SelectMany(_ => new[] { "SELL", "BUY" }), sides);
    }

    [Fact]
    public async Task The_control_api_drives_every_fill_loss_fault()
    {
        await using var exchange = await FakeExchange.StartAsync();
        using var http = new HttpClient { BaseAddress = exchange.BaseUrl };
        var account = new TestAccount("ctl-loss-key", "ctl-loss-secret");
        exchange.AddAccount(account.ApiKey, account.ApiSecret);
        var btc = exchange.GenerateTrades(account.ApiKey, "BTCUSDT", 4, seed: 22);
        exchange.GenerateTrades(account.ApiKey, "ETHUSDT", 6, seed: 22);

        var hide = await PostAsync(http, "_fake/trades/hide", new { apiKey = account.ApiKey, symbol = "BTCUSDT", fromId = btc[1].Id, toId = btc[1].Id, visibility = new { untilRevealed = true } });
        var lateAdd = await PostAsync(http, "_fake/trades", new
        {
            apiKey = account.ApiKey,
            trades = new[] { new { symbol = "BTCUSDT", side = "BUY", price = "100", qty = "1", quoteQty = "100", realizedPnl = "0", commission = "0.1", commissionAsset = "USDT", buyer = true, maker = false, positionSide = "BOTH" } },
            visibility = new { requests = 1 },
        });
        var counts = await http.GetFromJsonAsync<JsonElement>($"_fake/valid-trade-count?apiKey={account.ApiKey}");
        var corrupt = await PostAsync(http, "_fake/corrupt-rows", new { apiKey = account.ApiKey, symbol = "BTCUSDT", corruption = "MissingPrice" });
        var pageFault = await PostAsync(http, "_fake/page-faults", new { kind = "ForeignSymbolRows", apiKey = account.ApiKey, symbol = "BTCUSDT", times = 1, foreignSymbol = "ETHUSDT" });
        var faulted = await Signed.RowsAsync(await Signed.UserTradesAsync(http, account, "symbol=BTCUSDT&fromId=1", Signed.NowMs(exchange)));
        var reveal = await PostAsync(http, "_fake/trades/reveal", new { apiKey = account.ApiKey });
        var clean = Signed.Ids(await Signed.RowsAsync(await Signed.UserTradesAsync(http, account, "symbol=BTCUSDT&fromId=1", Signed.NowMs(exchange))));
        var lag = await PostAsync(http, "_fake/rest-lag", new { apiKey = account.ApiKey, lagMs = 60_000 });
        exchange.GenerateTrades(account.ApiKey, "BTCUSDT", 1, seed: 23);
        var keys = await http.GetFromJsonAsync<JsonElement>($"_fake/trade-keys?apiKey={account.ApiKey}");
        var shuffle = await PostAsync(http, "_fake/page-faults", new { kind = "Shuffled", apiKey = account.ApiKey });
        var clear = await PostAsync(http, "_fake/page-faults/clear", new { });

        Assert.Equal(1, hide.GetProperty("hidden").GetInt32());
        Assert.Equal(btc[^1].Id + 1, lateAdd[0].GetProperty("id").GetInt64());
        Assert.Equal(2, counts.GetProperty("hiddenTradeCount").GetInt32());
        Assert.Equal(11, counts.GetProperty("validTradeCount").GetInt32());
        Assert.DoesNotContain("\"price\"", corrupt.GetProperty("row").GetString()!, StringComparison.Ordinal);
        Assert.Equal(1, pageFault.GetProperty("activePageFaults").GetInt32());
        Assert.Contains(faulted.EnumerateArray(), r => r.GetProperty("symbol").GetString() == "ETHUSDT");
        Assert.DoesNotContain(faulted.EnumerateArray(), r => r.GetProperty("symbol").GetString() == "BTCUSDT" && r.GetProperty("id").GetInt64() == btc[1].Id);
        Assert.Equal(1, reveal.GetProperty("revealed").GetInt32());
        Assert.Equal([.. btc.Select(t => t.Id), btc[^1].Id + 1, FakeExchange.HugeCorruptId], clean);
        Assert.Equal(60_000, lag.GetProperty("lagMs").GetInt64());
        Assert.Equal(1, exchange.HiddenTradeCount(account.ApiKey));
        Assert.Equal(12, keys.GetArrayLength());
        Assert.Equal("BTCUSDT", keys[0].GetProperty("symbol").GetString());
        Assert.Equal(JsonValueKind.Number, keys[0].GetProperty("id").ValueKind);
        Assert.Equal(1, shuffle.GetProperty("activePageFaults").GetInt32());
        Assert.Equal(1, clear.GetProperty("cleared").GetInt32());
    }

    [Theory]
    [InlineData("_fake/page-faults", """{"kind":"ForeignSymbolRows","apiKey":"k"}""")]
    [InlineData("_fake/page-faults", """{"kind":"FabricatedRows"}""")]
    [InlineData("_fake/page-faults", """{"kind":"Shuffled","times":0}""")]
    [InlineData("_fake/trades/hide", """{"apiKey":"bad-ctl-key","symbol":"BTCUSDT","fromId":1,"toId":2}""")]
    [InlineData("_fake/trades/hide", """{"apiKey":"bad-ctl-key","symbol":"BTCUSDT","fromId":1,"toId":2,"visibility":{"requests":-1}}""")]
    [InlineData("_fake/rest-lag", """{"apiKey":"bad-ctl-key","lagMs":-5}""")]
    public async Task Bad_fault_control_calls_are_refused_with_400(string path, string body)
    {
        Exchange.AddAccount("bad-ctl-key", "bad-ctl-secret");

        var response = await Http.PostAsync(path, new StringContent(body, Encoding.UTF8, "application/json"));

        Assert.Equal(System.Net.HttpStatusCode.BadRequest, response.StatusCode);
    }

    private static FakeTrade Trade(string symbol, long id, string side) =>
        new(symbol, id, 0, side, 100m, 1m, 100m, 0m, 0.05m, "USDT", 0, side == "BUY", false, "BOTH");

    private async Task<JsonElement> FromIdAsync(TestAccount account, string symbol, long fromId) =>
        await Signed.RowsAsync(await Signed.UserTradesAsync(Http, account, $"symbol={symbol}&fromId={fromId}&limit=1000", Signed.NowMs(Exchange)));

    private static async Task<JsonElement> PostAsync(HttpClient http, string path, object body)
    {
        var response = await http.PostAsJsonAsync(path, body);
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.IsSuccessStatusCode, $"{path}: {(int)response.StatusCode} {text}");
        return JsonDocument.Parse(text).RootElement;
    }
}
