using System.Globalization;
using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Grinder.FakeBinance;
using Microsoft.Extensions.Time.Testing;

namespace Grinder.Tests.FakeBinance;

/// <summary>Generated fills, the running generator, and the unsigned time/exchangeInfo endpoints.</summary>
[Collection(FakeBinanceCollection.Name)]
public sealed class GeneratorAndMarketDataTests(FakeExchangeFixture fixture)
{
    private FakeExchange Exchange => fixture.Exchange;

    [Fact]
    public void Generated_ids_continue_after_the_last_id_and_times_ascend_up_to_now()
    {
        var account = fixture.NewAccount();
        var first = Exchange.GenerateTrades(account.ApiKey, "BTCUSDT", 20, seed: 1);
        var manual = Exchange.AddTrade(account.ApiKey, first[0] with { Id = 0, OrderId = 0, TimeMs = 0 });
        var second = Exchange.GenerateTrades(account.ApiKey, "BTCUSDT", 20, seed: 2);
        var all = Exchange.Trades(account.ApiKey, "BTCUSDT");

        Assert.Equal(Enumerable.Range(0, 41).Select(i => 1_000_001L + i), all.Select(t => t.Id));
        Assert.Equal(first[^1].Id + 1, manual.Id);
        Assert.Equal(manual.Id + 1, second[0].Id);
        Assert.True(all.Zip(all.Skip(1)).All(p => p.First.TimeMs <= p.Second.TimeMs), "times must not go back");
        Assert.True(all[^1].TimeMs <= Signed.NowMs(Exchange));
        Assert.All(all, t => Assert.Equal(t.Side == "BUY", t.Buyer));
        Assert.All(all, t => Assert.Equal(t.Price * t.Qty, t.QuoteQty));
    }

    [Fact]
    public void The_same_seed_gives_the_same_fills()
    {
        var a = fixture.NewAccount();
        var b = fixture.NewAccount();

        var fromA = Exchange.GenerateTrades(a.ApiKey, "ETHUSDT", 30, seed: 77);
        var fromB = Exchange.GenerateTrades(b.ApiKey, "ETHUSDT", 30, seed: 77);

        Assert.Equal(fromA.Select(t => (t.Id, t.Side, t.Price, t.Qty, t.Commission, t.Maker)), fromB.Select(t => (t.Id, t.Side, t.Price, t.Qty, t.Commission, t.Maker)));
    }

    [Fact]
    public void A_start_time_spreads_the_fills_from_there_to_now()
    {
        var account = fixture.NewAccount();
        var start = Signed.NowMs(Exchange) - (long)TimeSpan.FromDays(20).TotalMilliseconds;

        var trades = Exchange.GenerateTrades(account.ApiKey, "BTCUSDT", 200, seed: 3, startTimeMs: start);

        Assert.True(trades[0].TimeMs >= start);
        Assert.True(trades[0].TimeMs < start + TimeSpan.FromDays(1).TotalMilliseconds);
        Assert.True(trades[^1].TimeMs > Signed.NowMs(Exchange) - TimeSpan.FromDays(1).TotalMilliseconds);
    }

    [Fact]
    public void Self_trades_are_two_rows_with_one_id_both_sides_one_maker_and_both_count()
    {
        var account = fixture.NewAccount();

        var rows = Exchange.GenerateTrades(account.ApiKey, "BTCUSDT", 10, seed: 4, selfTradePairFraction: 1);

        Assert.Equal(20, rows.Count);
        Assert.All(rows.GroupBy(r => r.Id), pair =>
        {
            Assert.Equal(["BUY", "SELL"], pair.Select(r => r.Side));
            Assert.Single(pair, r => r.Maker);
            Assert.NotEqual(pair.First().OrderId, pair.Last().OrderId);
        });
        Assert.Equal(20, Exchange.ValidTradeCount(account.ApiKey));
    }

    [Fact]
    public async Task A_running_generator_keeps_adding_fills_on_every_symbol_until_disposed()
    {
        var account = fixture.NewAccount();

        await using (var generator = Exchange.StartGenerator(account.ApiKey, ["BTCUSDT", "SOLUSDT"], TimeSpan.FromMilliseconds(20), countPerTick: 2, seed: 5))
        {
            await Exchange.WaitForValidTradeCountAsync(account.ApiKey, 8, TimeSpan.FromSeconds(10));
            Assert.True(generator.Ticks >= 1);
        }

        Assert.True(Exchange.Trades(account.ApiKey, "BTCUSDT").Count >= 4);
        Assert.True(Exchange.Trades(account.ApiKey, "SOLUSDT").Count >= 4);
    }

    [Fact]
    public void A_generator_needs_a_known_account_symbols_and_a_positive_interval()
    {
        var account = fixture.NewAccount();

        Assert.Throws<KeyNotFoundException>(() => Exchange.StartGenerator("nobody", ["BTCUSDT"], TimeSpan.FromSeconds(1), 1, 1));
        Assert.Throws<ArgumentException>(() => Exchange.StartGenerator(account.ApiKey, [], TimeSpan.FromSeconds(1), 1, 1));
        Assert.Throws<ArgumentOutOfRangeException>(() => Exchange.StartGenerator(account.ApiKey, ["BTCUSDT"], TimeSpan.Zero, 1, 1));
    }

    [Fact]
    public async Task Time_and_exchangeInfo_report_the_skewed_server_time_and_the_listed_symbols()
    {
        var clock = new FakeTimeProvider(DateTimeOffset.Parse("2026-05-05T05:05:05Z", CultureInfo.InvariantCulture));
        await using var exchange = await FakeExchange.StartAsync(new FakeExchangeOptions { TimeProvider = clock, Symbols = ["BTCUSDT"] });
        using var http = new HttpClient { BaseAddress = exchange.BaseUrl };
        exchange.ClockSkew = TimeSpan.FromSeconds(-3);
        exchange.AddAccount("k", "s");
        exchange.GenerateTrades("k", "ADAUSDT", 1, seed: 1);

        var time = await http.GetFromJsonAsync<JsonElement>("fapi/v1/time");
        var info = await http.GetFromJsonAsync<JsonElement>("fapi/v1/exchangeInfo");
        var ping = await http.GetAsync("fapi/v1/ping");
        var unknown = await http.GetAsync("fapi/v1/nothing");

        var expected = clock.GetUtcNow().AddSeconds(-3).ToUnixTimeMilliseconds();
        Assert.Equal(expected, time.GetProperty("serverTime").GetInt64());
        Assert.Equal(expected, info.GetProperty("serverTime").GetInt64());
        Assert.Equal(["BTCUSDT", "ADAUSDT"], info.GetProperty("symbols").EnumerateArray().Select(s => s.GetProperty("symbol").GetString()));
        Assert.Equal("ADA", info.GetProperty("symbols")[1].GetProperty("baseAsset").GetString());
        Assert.Equal(HttpStatusCode.OK, ping.StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, unknown.StatusCode);
    }
}
