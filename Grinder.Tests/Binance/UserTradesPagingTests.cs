using System.Globalization;
using Grinder.FakeBinance;
using Grinder.Grains.Binance;
using Grinder.Tests.FakeBinance;

namespace Grinder.Tests.Binance;

/// <summary>Paging and bootstrap of <see cref="UserTradesFetcher"/> against the fake exchange over loopback: fromId paging, bootstrap windows, never startTime=0 (Binance docs).</summary>
[Collection(FakeBinanceCollection.Name)]
public sealed class UserTradesPagingTests(FakeExchangeFixture fixture) : IDisposable
{
    private const string Symbol = "BTCUSDT";
    private readonly FakeExchange _exchange = fixture.Exchange;
    private readonly ClientHarness _client = new(fixture.Exchange.BaseUrl);

    public void Dispose() => _client.Dispose();

    private long NowMs => _exchange.ServerTime.ToUnixTimeMilliseconds();

    /// <summary>The client's view of the fake's ground truth, field by field.</summary>
    private static List<ParsedTrade> Expected(IEnumerable<FakeTrade> trades) =>
    [
        .. trades.Select(t => new ParsedTrade(
            t.Symbol, t.Id, t.OrderId, t.Side == "BUY" ? FillSide.Buy : FillSide.Sell, t.Maker ? FillLiquidity.Maker : FillLiquidity.Taker,
            t.Price, t.Qty, t.QuoteQty, t.RealizedPnl, t.Commission, t.CommissionAsset, t.TimeMs, t.PositionSide))
            .OrderBy(t => t.Id).ThenBy(t => t.Side),
    ];

    /// <summary>The query parameters of the account's userTrades requests, once <paramref name="count"/> are recorded.</summary>
    private async Task<List<Dictionary<string, string>>> UserTradeQueriesAsync(BinanceCredentials account, int count) =>
    [
        .. (await _exchange.UserTradesRequestsAsync(account, count))
            .Select(r => r.Query.Split('&').Select(p => p.Split('=', 2)).ToDictionary(p => p[0], p => p.Length > 1 ? p[1] : string.Empty)),
    ];

    private static long Long(Dictionary<string, string> query, string name) => long.Parse(query[name], CultureInfo.InvariantCulture);

    [Fact]
    public async Task A_backlog_of_3500_rows_is_read_in_one_poll_with_full_pages_and_nothing_lost()
    {
        var account = fixture.NewCredentials();
        var generated = _exchange.GenerateTrades(account.ApiKey, Symbol, 3500, seed: 11);
        var start = new FetchPosition(generated[0].Id - 1, 0, null, false);

        var result = await _client.FetchAsync(account, Symbol, start);

        Assert.Null(result.Error);
        Assert.Empty(result.Rejected);
        Assert.Equal(Expected(_exchange.Trades(account.ApiKey, Symbol)), result.Trades);
        Assert.Equal(new FetchPosition(generated[^1].Id, generated[^1].TimeMs, null, false), result.Next);

        // fromId = last + 1 first, then each full page continues inclusively from its own last id (fromId is inclusive).
        var queries = await UserTradeQueriesAsync(account, 4);
        Assert.Equal(
            [generated[0].Id, generated[999].Id, generated[1998].Id, generated[2997].Id],
            queries.Select(q => Long(q, "fromId")));
        Assert.All(queries, q => Assert.Equal("1000", q["limit"]));
        Assert.All(queries, q => Assert.False(q.ContainsKey("startTime") || q.ContainsKey("endTime")));
        Assert.Equal(5, result.Requests); // 4 pages + the first server-time reading
        _client.AssertCleanRun(_exchange, account);
    }

    [Fact]
    public async Task The_page_bound_stops_a_poll_and_the_next_poll_resumes_inclusively_without_loss()
    {
        var account = fixture.NewCredentials();
        var generated = _exchange.GenerateTrades(account.ApiKey, Symbol, 3500, seed: 12);
        var start = new FetchPosition(generated[0].Id - 1, 0, null, false);

        var first = await _client.FetchAsync(account, Symbol, start, maxPages: 2);

        Assert.Null(first.Error);
        Assert.Equal(new FetchPosition(generated[1998].Id, generated[1998].TimeMs, null, ResumeInclusive: true), first.Next);
        Assert.Equal(1999, first.Trades.Count);

        var second = await _client.FetchAsync(account, Symbol, first.Next, maxPages: 2);

        Assert.Null(second.Error);
        Assert.Equal(generated[1998].Id, Long((await UserTradeQueriesAsync(account, 3))[2], "fromId"));
        Assert.Equal(new FetchPosition(generated[^1].Id, generated[^1].TimeMs, null, false), second.Next);

        // What the grain does: union by (symbol, id, side). Exactly the fake's rows, none twice, none missing.
        var union = first.Trades.Concat(second.Trades).DistinctBy(t => (t.Symbol, t.Id, t.Side)).OrderBy(t => t.Id).ThenBy(t => t.Side);
        Assert.Equal(Expected(generated), union);
        _client.AssertCleanRun(_exchange, account);
    }

    [Fact]
    public async Task A_self_trade_pair_split_by_the_1000_row_page_boundary_keeps_both_sides()
    {
        var account = fixture.NewCredentials();
        var before = _exchange.GenerateTrades(account.ApiKey, Symbol, 999, seed: 13);
        var pairId = before[^1].Id + 1;
        var nowMs = NowMs;

        // Rows 1000 and 1001 of the book: the same trade id, the account on both sides (BUY maker, SELL taker).
        var buy = _exchange.AddTrade(account.ApiKey, new FakeTrade(Symbol, pairId, 0, "BUY", 60000m, 0.01m, 600m, 0m, -0.03m, "USDT", nowMs, true, true, "BOTH"));
        var sell = _exchange.AddTrade(account.ApiKey, new FakeTrade(Symbol, pairId, 0, "SELL", 60000m, 0.01m, 600m, 0m, 0.3m, "USDT", nowMs, false, false, "BOTH"));
        var after = _exchange.GenerateTrades(account.ApiKey, Symbol, 20, seed: 14);

        var result = await _client.FetchAsync(account, Symbol, new FetchPosition(before[0].Id - 1, 0, null, false));

        Assert.Null(result.Error);
        var queries = await UserTradeQueriesAsync(account, 2);
        Assert.Equal(2, queries.Count);
        Assert.Equal(pairId, Long(queries[1], "fromId")); // page 1 ended on the BUY row: page 2 starts at that id again
        Assert.Contains(result.Trades, t => t.Id == pairId && t.Side == FillSide.Buy && t.Liquidity == FillLiquidity.Maker && t.Commission == -0.03m);
        Assert.Contains(result.Trades, t => t.Id == pairId && t.Side == FillSide.Sell && t.Liquidity == FillLiquidity.Taker && t.Commission == 0.3m);
        Assert.Equal(Expected([.. before, buy, sell, .. after]), result.Trades);
        Assert.Equal(after[^1].Id, result.Next.LastTradeId);
        _client.AssertCleanRun(_exchange, account);
    }

    [Fact]
    public async Task Generated_self_trades_across_several_pages_are_all_counted_once()
    {
        var account = fixture.NewCredentials();
        _exchange.GenerateTrades(account.ApiKey, Symbol, 2600, seed: 15, selfTradePairFraction: 0.3);
        var truth = _exchange.Trades(account.ApiKey, Symbol);

        var result = await _client.FetchAsync(account, Symbol, new FetchPosition(truth[0].Id - 1, 0, null, false));

        Assert.Null(result.Error);
        Assert.True(truth.Count > 3000, "the book should hold many self-trade pairs");
        Assert.Equal(Expected(truth), result.Trades);
        _client.AssertCleanRun(_exchange, account);
    }

    [Fact]
    public async Task Bootstrap_steps_through_7_day_windows_then_switches_to_fromId()
    {
        var account = fixture.NewCredentials();
        var nowMs = NowMs;
        var day = (long)TimeSpan.FromDays(1).TotalMilliseconds;

        // 400 trades spread over the last 20 days; the lookback starts 30 days ago, where nothing happened yet.
        var generated = _exchange.GenerateTrades(account.ApiKey, Symbol, 400, seed: 16, startTimeMs: nowMs - (20 * day));
        var lookback = nowMs - (30 * day);

        var result = await _client.FetchAsync(account, Symbol, new FetchPosition(null, 0, lookback, false));

        Assert.Null(result.Error);
        Assert.Equal(Expected(generated), result.Trades);
        Assert.Equal(new FetchPosition(generated[^1].Id, generated[^1].TimeMs, null, false), result.Next);

        // Window 1 (30..23 days ago) is empty, window 2 holds the first rows (fewer than 1000), then one fromId page.
        var queries = await UserTradeQueriesAsync(account, 3);
        Assert.Equal(3, queries.Count);
        var windows = queries.TakeWhile(q => q.ContainsKey("startTime")).ToList();
        Assert.Equal(lookback, Long(windows[0], "startTime"));
        Assert.All(windows, w => Assert.True(Long(w, "endTime") - Long(w, "startTime") < 7 * day));
        Assert.All(windows.Skip(1).Zip(windows), pair => Assert.Equal(Long(pair.Second, "endTime") + 1, Long(pair.First, "startTime")));
        Assert.All(queries, q => Assert.False(q.ContainsKey("fromId") && (q.ContainsKey("startTime") || q.ContainsKey("endTime"))));
        Assert.All(queries, q => Assert.NotEqual("0", q.GetValueOrDefault("startTime")));
        Assert.Equal(2, windows.Count);
        _client.AssertCleanRun(_exchange, account);
    }

    [Fact]
    public async Task Bootstrap_with_a_full_window_continues_inclusively_by_id()
    {
        var account = fixture.NewCredentials();
        var nowMs = NowMs;
        var generated = _exchange.GenerateTrades(account.ApiKey, Symbol, 1500, seed: 17, startTimeMs: nowMs - 3_600_000);

        var result = await _client.FetchAsync(account, Symbol, new FetchPosition(null, 0, nowMs - 86_400_000, false));

        Assert.Null(result.Error);
        Assert.Equal(Expected(generated), result.Trades);
        var queries = await UserTradeQueriesAsync(account, 2);
        Assert.Equal(2, queries.Count);
        Assert.True(queries[0].ContainsKey("startTime"));
        Assert.Equal(generated[999].Id, Long(queries[1], "fromId"));
        _client.AssertCleanRun(_exchange, account);
    }

    [Fact]
    public async Task Bootstrap_of_an_empty_account_reaches_now_and_keeps_a_safety_overlap()
    {
        var account = fixture.NewCredentials();
        var before = NowMs;
        var lookback = before - (long)TimeSpan.FromDays(10).TotalMilliseconds;

        var result = await _client.FetchAsync(account, Symbol, new FetchPosition(null, 0, lookback, false));

        var after = NowMs;
        Assert.Null(result.Error);
        Assert.Empty(result.Trades);
        Assert.Null(result.Next.LastTradeId);
        Assert.InRange(result.Next.BootstrapFromMs!.Value, before - 60_000 - 1_000, after - 60_000 + 1_000);
        Assert.Equal(2, (await UserTradeQueriesAsync(account, 2)).Count); // 10 days = one 7-day window + the rest up to now

        // A trade that appears shortly afterwards is found by the next poll.
        var late = _exchange.GenerateTrades(account.ApiKey, Symbol, 1, seed: 18);
        var next = await _client.FetchAsync(account, Symbol, result.Next);
        Assert.Equal(Expected(late), next.Trades);
        Assert.Equal(late[0].Id, next.Next.LastTradeId);
        _client.AssertCleanRun(_exchange, account);
    }

    [Fact]
    public async Task A_row_that_becomes_visible_late_inside_a_window_ending_just_before_now_is_found_next_poll()
    {
        // The default lookback equals the 7-day window, so a fresh cursor's first window ends 1 ms before the poll began.
        var account = fixture.NewCredentials();
        var lookback = NowMs - (long)TimeSpan.FromDays(7).TotalMilliseconds;

        var first = await _client.FetchAsync(account, Symbol, new FetchPosition(null, 0, lookback, false));

        Assert.Null(first.Error);
        Assert.Empty(first.Trades);
        var firstWindowEnd = Long((await UserTradeQueriesAsync(account, 1))[0], "endTime");

        // Executed inside that first window, visible only now (Binance lists a trade under its execution time).
        var late = _exchange.AddTrade(account.ApiKey, new FakeTrade(Symbol, 0, 0, "BUY", 60000m, 0.01m, 600m, 0m, 0.3m, "USDT", firstWindowEnd - 500, true, false, "BOTH"));
        var second = await _client.FetchAsync(account, Symbol, first.Next);

        Assert.Null(second.Error);
        Assert.Equal(Expected([late]), second.Trades);
        Assert.Equal(late.Id, second.Next.LastTradeId);
        _client.AssertCleanRun(_exchange, account);
    }

    [Theory]
    [InlineData(0L)]
    [InlineData(null)]
    public async Task A_fresh_cursor_never_sends_startTime_0(long? bootstrapFrom)
    {
        var account = fixture.NewCredentials();
        var generated = _exchange.GenerateTrades(account.ApiKey, Symbol, 5, seed: 19);
        var before = NowMs;

        var result = await _client.FetchAsync(account, Symbol, new FetchPosition(null, 0, bootstrapFrom, false));

        Assert.Null(result.Error);
        Assert.Equal(Expected(generated), result.Trades);
        var first = (await UserTradeQueriesAsync(account, 1))[0];
        Assert.InRange(Long(first, "startTime"), before - (long)TimeSpan.FromDays(7).TotalMilliseconds - 1_000, NowMs);
        _client.AssertCleanRun(_exchange, account);
    }

    [Fact]
    public async Task Cursors_are_per_symbol_and_rows_of_other_symbols_never_mix()
    {
        var account = fixture.NewCredentials();
        var btc = _exchange.GenerateTrades(account.ApiKey, "BTCUSDT", 30, seed: 20);
        var eth = _exchange.GenerateTrades(account.ApiKey, "ETHUSDT", 40, seed: 21);

        // Trade ids are per symbol: both books start at the same id (defect 1 of the original dropped one of them).
        Assert.Equal(btc[0].Id, eth[0].Id);
        var btcResult = await _client.FetchAsync(account, "BTCUSDT", new FetchPosition(btc[0].Id - 1, 0, null, false));
        var ethResult = await _client.FetchAsync(account, "ETHUSDT", new FetchPosition(eth[0].Id - 1, 0, null, false));

        Assert.Equal(Expected(btc), btcResult.Trades);
        Assert.Equal(Expected(eth), ethResult.Trades);
        _client.AssertCleanRun(_exchange, account);
    }
}
