using System.Net;
using System.Text.Json;
using Grinder.FakeBinance;

namespace Grinder.Tests.FakeBinance;

/// <summary>Parameter rules and row selection of GET /fapi/v1/userTrades (Binance USD-M "Account Trade List").</summary>
[Collection(FakeBinanceCollection.Name)]
public sealed class UserTradesQueryTests(FakeExchangeFixture fixture)
{
    private static readonly long Day = (long)TimeSpan.FromDays(1).TotalMilliseconds;

    private FakeExchange Exchange => fixture.Exchange;

    private HttpClient Http => fixture.Http;

    [Theory]
    [InlineData("")]
    [InlineData("symbol=")]
    public async Task Symbol_is_mandatory(string query)
    {
        var account = fixture.NewAccount();

        var error = await Signed.ErrorAsync(await Signed.UserTradesAsync(Http, account, query, Signed.NowMs(Exchange)), HttpStatusCode.BadRequest);

        Assert.Equal(new BinanceError(-1102, "Mandatory parameter 'symbol' was not sent, was empty/null, or malformed."), error);
    }

    [Fact]
    public async Task An_unlisted_symbol_is_refused()
    {
        var account = fixture.NewAccount();

        var error = await Signed.ErrorAsync(await Signed.UserTradesAsync(Http, account, "symbol=NOPEUSDT", Signed.NowMs(Exchange)), HttpStatusCode.BadRequest);

        Assert.Equal(-1121, error.Code);
    }

    [Fact]
    public async Task FromId_is_inclusive_and_rows_ascend_by_id()
    {
        var account = fixture.NewAccount();
        var ids = Exchange.GenerateTrades(account.ApiKey, "BTCUSDT", 10, seed: 2).Select(t => t.Id).ToArray();

        var rows = await Signed.RowsAsync(await Signed.UserTradesAsync(Http, account, $"symbol=BTCUSDT&fromId={ids[3]}&limit=4", Signed.NowMs(Exchange)));

        Assert.Equal(ids[3..7], Signed.Ids(rows));
    }

    [Fact]
    public async Task Trade_ids_are_a_sequence_per_symbol()
    {
        var account = fixture.NewAccount();
        var btc = Exchange.GenerateTrades(account.ApiKey, "BTCUSDT", 3, seed: 3);
        var eth = Exchange.GenerateTrades(account.ApiKey, "ETHUSDT", 3, seed: 3);

        var rows = await Signed.RowsAsync(await Signed.UserTradesAsync(Http, account, $"symbol=ETHUSDT&fromId={eth[0].Id}", Signed.NowMs(Exchange)));

        Assert.Equal(btc.Select(t => t.Id), eth.Select(t => t.Id));
        Assert.All(rows.EnumerateArray(), r => Assert.Equal("ETHUSDT", r.GetProperty("symbol").GetString()));
        Assert.Equal(3, rows.GetArrayLength());
    }

    [Theory]
    [InlineData("startTime")]
    [InlineData("endTime")]
    public async Task FromId_cannot_be_sent_with_a_time_bound(string timeParameter)
    {
        var account = fixture.NewAccount();
        var now = Signed.NowMs(Exchange);

        var error = await Signed.ErrorAsync(await Signed.UserTradesAsync(Http, account, $"symbol=BTCUSDT&fromId=1&{timeParameter}={now - Day}", now), HttpStatusCode.BadRequest);

        Assert.Equal(-1128, error.Code);
        Assert.Contains("fromId cannot be sent with startTime or endTime", error.Msg, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_window_longer_than_seven_days_is_refused_and_exactly_seven_days_is_accepted()
    {
        var account = fixture.NewAccount();
        var now = Signed.NowMs(Exchange);

        var tooLong = await Signed.UserTradesAsync(Http, account, $"symbol=BTCUSDT&startTime={now - (7 * Day) - 1}&endTime={now}", now);
        var sevenDays = await Signed.UserTradesAsync(Http, account, $"symbol=BTCUSDT&startTime={now - (7 * Day)}&endTime={now}", now);

        Assert.Equal(-1127, (await Signed.ErrorAsync(tooLong, HttpStatusCode.BadRequest)).Code);
        await Signed.RowsAsync(sevenDays);
    }

    [Fact]
    public async Task A_start_after_the_end_is_refused()
    {
        var account = fixture.NewAccount();
        var now = Signed.NowMs(Exchange);

        var error = await Signed.ErrorAsync(await Signed.UserTradesAsync(Http, account, $"symbol=BTCUSDT&startTime={now}&endTime={now - 1}", now), HttpStatusCode.BadRequest);

        Assert.Equal(-1023, error.Code);
    }

    [Theory]
    [InlineData("0")]
    [InlineData("1001")]
    [InlineData("-5")]
    public async Task A_limit_outside_1_to_1000_is_refused(string limit)
    {
        var account = fixture.NewAccount();

        var error = await Signed.ErrorAsync(await Signed.UserTradesAsync(Http, account, $"symbol=BTCUSDT&limit={limit}", Signed.NowMs(Exchange)), HttpStatusCode.BadRequest);

        Assert.Equal(new BinanceError(-1130, "Data sent for parameter 'limit' is not valid."), error);
    }

    [Fact]
    public async Task The_default_limit_is_500_and_1000_is_the_largest_page()
    {
        var account = fixture.NewAccount();
        var trades = Exchange.GenerateTrades(account.ApiKey, "BTCUSDT", 1200, seed: 4);
        var now = Signed.NowMs(Exchange);

        var byDefault = await Signed.RowsAsync(await Signed.UserTradesAsync(Http, account, $"symbol=BTCUSDT&fromId={trades[0].Id}", now));
        var largest = await Signed.RowsAsync(await Signed.UserTradesAsync(Http, account, $"symbol=BTCUSDT&fromId={trades[0].Id}&limit=1000", now));

        Assert.Equal(trades.Take(500).Select(t => t.Id), Signed.Ids(byDefault));
        Assert.Equal(1000, largest.GetArrayLength());
    }

    [Fact]
    public async Task Without_cursor_or_times_only_the_most_recent_rows_of_the_last_seven_days_come_back_ascending()
    {
        var account = fixture.NewAccount();
        var now = Signed.NowMs(Exchange);
        var old = AddAt(account, "BTCUSDT", now - (8 * Day));
        var recent = new[] { AddAt(account, "BTCUSDT", now - (6 * Day)), AddAt(account, "BTCUSDT", now - (2 * Day)), AddAt(account, "BTCUSDT", now - Day) };

        var all = await Signed.RowsAsync(await Signed.UserTradesAsync(Http, account, "symbol=BTCUSDT", now));
        var lastTwo = await Signed.RowsAsync(await Signed.UserTradesAsync(Http, account, "symbol=BTCUSDT&limit=2", now));

        Assert.DoesNotContain(old.Id, Signed.Ids(all));
        Assert.Equal(recent.Select(t => t.Id), Signed.Ids(all));
        Assert.Equal(recent[1..].Select(t => t.Id), Signed.Ids(lastTwo));
    }

    [Fact]
    public async Task Only_startTime_reads_seven_days_from_it_and_only_endTime_seven_days_up_to_it()
    {
        var account = fixture.NewAccount();
        var start = Signed.NowMs(Exchange) - (20 * Day);
        var before = AddAt(account, "BTCUSDT", start - 1);
        var first = AddAt(account, "BTCUSDT", start);
        var last = AddAt(account, "BTCUSDT", start + (7 * Day));
        var after = AddAt(account, "BTCUSDT", start + (7 * Day) + 1);
        var now = Signed.NowMs(Exchange);

        var fromStart = await Signed.RowsAsync(await Signed.UserTradesAsync(Http, account, $"symbol=BTCUSDT&startTime={start}", now));
        var toEnd = await Signed.RowsAsync(await Signed.UserTradesAsync(Http, account, $"symbol=BTCUSDT&endTime={start + (7 * Day)}", now));

        Assert.Equal([first.Id, last.Id], Signed.Ids(fromStart));
        Assert.Equal([first.Id, last.Id], Signed.Ids(toEnd));
        Assert.DoesNotContain(before.Id, Signed.Ids(fromStart));
        Assert.DoesNotContain(after.Id, Signed.Ids(toEnd));
    }

    [Fact]
    public async Task A_self_trade_pair_split_by_a_page_boundary_is_recovered_by_the_inclusive_fromId()
    {
        var account = fixture.NewAccount();
        var single = Exchange.GenerateTrades(account.ApiKey, "BTCUSDT", 1, seed: 5);
        var pair = Exchange.GenerateTrades(account.ApiKey, "BTCUSDT", 1, seed: 5, selfTradePairFraction: 1);
        var now = Signed.NowMs(Exchange);

        var firstPage = await Signed.RowsAsync(await Signed.UserTradesAsync(Http, account, $"symbol=BTCUSDT&fromId={single[0].Id}&limit=2", now));
        var nextPage = await Signed.RowsAsync(await Signed.UserTradesAsync(Http, account, $"symbol=BTCUSDT&fromId={pair[0].Id}&limit=2", now));

        Assert.Equal([single[0].Id, pair[0].Id], Signed.Ids(firstPage));
        Assert.Equal([pair[0].Id, pair[0].Id], Signed.Ids(nextPage));
        Assert.Equal(["BUY", "SELL"], nextPage.EnumerateArray().Select(r => r.GetProperty("side").GetString()));
        Assert.Equal(3, Exchange.ValidTradeCount(account.ApiKey));
    }

    [Fact]
    public async Task Rows_have_Binance_field_types_and_keep_the_exact_decimal_text()
    {
        var account = fixture.NewAccount();
        var trade = Exchange.AddTrade(account.ApiKey, new FakeTrade("BTCUSDT", 0, 0, "SELL", 7819.01m, 0.002m, 15.63802m, -0.91539999m, -0.07819010m, "USDT", 0, false, true, "SHORT"));

        var row = (await Signed.RowsAsync(await Signed.UserTradesAsync(Http, account, "symbol=BTCUSDT", Signed.NowMs(Exchange))))[0];

        Assert.Equal(
            ["symbol", "id", "orderId", "side", "price", "qty", "realizedPnl", "quoteQty", "commission", "commissionAsset", "time", "positionSide", "buyer", "maker"],
            row.EnumerateObject().Select(p => p.Name));
        Assert.Equal("7819.01", row.GetProperty("price").GetString());
        Assert.Equal("0.002", row.GetProperty("qty").GetString());
        Assert.Equal("-0.91539999", row.GetProperty("realizedPnl").GetString());
        Assert.Equal("15.63802", row.GetProperty("quoteQty").GetString());
        Assert.Equal("-0.07819010", row.GetProperty("commission").GetString());
        Assert.Equal(trade.Id, row.GetProperty("id").GetInt64());
        Assert.Equal(JsonValueKind.Number, row.GetProperty("orderId").ValueKind);
        Assert.Equal(trade.TimeMs, row.GetProperty("time").GetInt64());
        Assert.Equal(JsonValueKind.False, row.GetProperty("buyer").ValueKind);
        Assert.Equal(JsonValueKind.True, row.GetProperty("maker").ValueKind);
    }

    [Fact]
    public async Task A_raw_row_is_served_verbatim_in_id_order_and_never_counted_as_valid()
    {
        var account = fixture.NewAccount();
        var trades = Exchange.GenerateTrades(account.ApiKey, "BTCUSDT", 2, seed: 6);
        const string Raw = """{"symbol":"BTCUSDT","id":1000002,"price":"NaN","qty":"-1"}""";
        Exchange.AddRawRow(account.ApiKey, "BTCUSDT", trades[1].Id, trades[1].TimeMs, Raw);

        var response = await Signed.UserTradesAsync(Http, account, $"symbol=BTCUSDT&fromId={trades[0].Id}", Signed.NowMs(Exchange));
        var rows = await Signed.RowsAsync(response);

        Assert.Equal(Raw, rows[2].GetRawText());
        Assert.Equal([trades[0].Id, trades[1].Id, trades[1].Id], Signed.Ids(rows));
        Assert.Equal(2, Exchange.ValidTradeCount(account.ApiKey));
        Assert.Equal(2, Exchange.Trades(account.ApiKey, "BTCUSDT").Count);
    }

    [Fact]
    public async Task Trades_older_than_six_months_are_out_of_reach_and_not_counted()
    {
        var account = fixture.NewAccount();
        var now = Signed.NowMs(Exchange);
        var ancient = AddAt(account, "BTCUSDT", now - (200 * Day));

        var rows = await Signed.RowsAsync(await Signed.UserTradesAsync(Http, account, $"symbol=BTCUSDT&fromId={ancient.Id}", now));

        Assert.Equal(0, rows.GetArrayLength());
        Assert.Equal(0, Exchange.ValidTradeCount(account.ApiKey));
    }

    [Fact]
    public async Task OrderId_filters_the_rows_of_one_order()
    {
        var account = fixture.NewAccount();
        var trades = Exchange.GenerateTrades(account.ApiKey, "BTCUSDT", 5, seed: 7);

        var rows = await Signed.RowsAsync(await Signed.UserTradesAsync(Http, account, $"symbol=BTCUSDT&orderId={trades[2].OrderId}", Signed.NowMs(Exchange)));

        Assert.Equal([trades[2].Id], Signed.Ids(rows));
    }

    [Theory]
    [InlineData("symbol=BTCUSDT&fromid=5", -1104)]
    [InlineData("symbol=BTCUSDT&fromId=abc", -1100)]
    [InlineData("symbol=BTCUSDT&limit=5&limit=6", -1101)]
    public async Task Unknown_malformed_or_repeated_parameters_are_refused(string query, int code)
    {
        var account = fixture.NewAccount();

        var error = await Signed.ErrorAsync(await Signed.UserTradesAsync(Http, account, query, Signed.NowMs(Exchange)), HttpStatusCode.BadRequest);

        Assert.Equal(code, error.Code);
    }

    [Fact]
    public void Adding_an_invalid_or_duplicate_row_throws_but_the_other_side_of_a_self_trade_is_accepted()
    {
        var account = fixture.NewAccount();
        var buy = Exchange.AddTrade(account.ApiKey, new FakeTrade("BTCUSDT", 0, 0, "BUY", 100m, 1m, 100m, 0m, 0.05m, "USDT", 0, true, false, "BOTH"));

        Assert.Throws<ArgumentException>(() => Exchange.AddTrade(account.ApiKey, buy with { Id = 0, Side = "buy" }));
        Assert.Throws<ArgumentException>(() => Exchange.AddTrade(account.ApiKey, buy with { Id = 0, Price = 0m }));
        Assert.Throws<InvalidOperationException>(() => Exchange.AddTrade(account.ApiKey, buy));
        var sell = Exchange.AddTrade(account.ApiKey, buy with { Side = "SELL", Buyer = false, Maker = true, OrderId = 0 });

        Assert.Equal(buy.Id, sell.Id);
        Assert.Equal(2, Exchange.ValidTradeCount(account.ApiKey));
    }

    private FakeTrade AddAt(TestAccount account, string symbol, long timeMs) =>
        Exchange.AddTrade(account.ApiKey, new FakeTrade(symbol, 0, 0, "BUY", 100m, 1m, 100m, 0m, 0.05m, "USDT", timeMs, true, false, "BOTH"));
}
