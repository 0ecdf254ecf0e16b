using System.Globalization;
using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Grinder.FakeBinance;
using Microsoft.Extensions.Time.Testing;

namespace Grinder.Tests.FakeBinance;

/// <summary>REQUEST_WEIGHT per IP and minute, X-MBX-USED-WEIGHT-1M, and the 429 → 418 escalation. Each test owns an exchange and a clock.</summary>
[Collection(FakeBinanceCollection.Name)]
public sealed class RateLimitTests
{
    /// <summary>15 s into a minute, so the window ends 45 s later.</summary>
    private static readonly DateTimeOffset Start = DateTimeOffset.Parse("2026-03-01T10:00:15Z", CultureInfo.InvariantCulture);

    [Fact]
    public async Task Every_answer_reports_the_weight_used_by_the_IP_across_accounts()
    {
        var clock = new FakeTimeProvider(Start);
        await using var exchange = await FakeExchange.StartAsync(new FakeExchangeOptions { TimeProvider = clock });
        using var http = new HttpClient { BaseAddress = exchange.BaseUrl };
        var first = NewAccount(exchange, "first");
        var second = NewAccount(exchange, "second");
        var now = Signed.NowMs(exchange);

        var weights = new List<int>
        {
            Signed.UsedWeight(await http.GetAsync("fapi/v1/time")),
            Signed.UsedWeight(await Signed.UserTradesAsync(http, first, "symbol=BTCUSDT", now)),
            Signed.UsedWeight(await http.GetAsync("fapi/v1/exchangeInfo")),
            Signed.UsedWeight(await Signed.UserTradesAsync(http, second, "symbol=ETHUSDT", now)),
            Signed.UsedWeight(await Signed.UserTradesAsync(http, first, "symbol=BTCUSDT", now, secret: "wrong")),
        };
        clock.Advance(TimeSpan.FromMinutes(1));
        weights.Add(Signed.UsedWeight(await http.GetAsync("fapi/v1/time")));

        Assert.Equal([1, 6, 7, 12, 17, 1], weights);
    }

    [Fact]
    public async Task Over_the_limit_answers_429_with_Retry_After_and_a_client_that_keeps_sending_is_banned_with_418()
    {
        var clock = new FakeTimeProvider(Start);
        await using var exchange = await FakeExchange.StartAsync(new FakeExchangeOptions
        {
            TimeProvider = clock,
            WeightLimitPerMinute = 10,
            BanAfterRequestsWhileLimited = 2,
            BanDuration = TimeSpan.FromMinutes(2),
        });
        using var http = new HttpClient { BaseAddress = exchange.BaseUrl };
        var account = NewAccount(exchange, "busy");
        var now = Signed.NowMs(exchange);

        var statuses = new List<HttpStatusCode>();
        for (var i = 0; i < 2; i++)
        {
            statuses.Add((await Signed.UserTradesAsync(http, account, "symbol=BTCUSDT", now)).StatusCode);
        }

        var limited = await Signed.UserTradesAsync(http, account, "symbol=BTCUSDT", now);
        var stillLimited = await http.GetAsync("fapi/v1/time");
        await http.GetAsync("fapi/v1/time");
        var banned = await http.GetAsync("fapi/v1/time");
        clock.Advance(TimeSpan.FromSeconds(60));
        var stillBanned = await http.GetAsync("fapi/v1/time");
        clock.Advance(TimeSpan.FromSeconds(61));
        var after = await http.GetAsync("fapi/v1/time");

        Assert.Equal([HttpStatusCode.OK, HttpStatusCode.OK], statuses);
        Assert.Equal(-1003, (await Signed.ErrorAsync(limited, HttpStatusCode.TooManyRequests)).Code);
        Assert.Equal(TimeSpan.FromSeconds(45), limited.Headers.RetryAfter!.Delta);
        Assert.Equal(10, Signed.UsedWeight(limited));
        Assert.Equal(HttpStatusCode.TooManyRequests, stillLimited.StatusCode);
        Assert.Equal(-1003, (await Signed.ErrorAsync(banned, (HttpStatusCode)418)).Code);
        Assert.Equal(TimeSpan.FromSeconds(120), banned.Headers.RetryAfter!.Delta);
        Assert.Equal((HttpStatusCode)418, stillBanned.StatusCode);
        Assert.Equal(TimeSpan.FromSeconds(60), stillBanned.Headers.RetryAfter!.Delta);
        Assert.Equal(HttpStatusCode.OK, after.StatusCode);
    }

    [Fact]
    public async Task A_client_that_backs_off_until_Retry_After_is_served_again_without_a_ban()
    {
        var clock = new FakeTimeProvider(Start);
        await using var exchange = await FakeExchange.StartAsync(new FakeExchangeOptions { TimeProvider = clock, WeightLimitPerMinute = 2 });
        using var http = new HttpClient { BaseAddress = exchange.BaseUrl };

        await http.GetAsync("fapi/v1/time");
        await http.GetAsync("fapi/v1/time");
        var limited = await http.GetAsync("fapi/v1/time");
        clock.Advance(limited.Headers.RetryAfter!.Delta!.Value);
        var served = await http.GetAsync("fapi/v1/time");

        Assert.Equal(HttpStatusCode.TooManyRequests, limited.StatusCode);
        Assert.Equal(HttpStatusCode.OK, served.StatusCode);
        Assert.Equal(1, Signed.UsedWeight(served));
    }

    [Fact]
    public async Task The_weight_limit_can_be_changed_at_run_time_and_exchangeInfo_reports_it()
    {
        await using var exchange = await FakeExchange.StartAsync(new FakeExchangeOptions { TimeProvider = new FakeTimeProvider(Start) });
        using var http = new HttpClient { BaseAddress = exchange.BaseUrl };

        var before = await RequestWeightLimitAsync(http);
        exchange.WeightLimitPerMinute = 3;
        var after = await RequestWeightLimitAsync(http);
        var lastServed = await http.GetAsync("fapi/v1/time");
        var refused = await http.GetAsync("fapi/v1/time");

        Assert.Equal(2400, before);
        Assert.Equal(3, after);
        Assert.Equal(HttpStatusCode.OK, lastServed.StatusCode);
        Assert.Equal(HttpStatusCode.TooManyRequests, refused.StatusCode);
    }

    private static async Task<int> RequestWeightLimitAsync(HttpClient http)
    {
        var info = await http.GetFromJsonAsync<JsonElement>("fapi/v1/exchangeInfo");
        var limit = info.GetProperty("rateLimits").EnumerateArray().Single(l => l.GetProperty("rateLimitType").GetString() == "REQUEST_WEIGHT");
        Assert.Equal("MINUTE", limit.GetProperty("interval").GetString());
        Assert.Equal(1, limit.GetProperty("intervalNum").GetInt32());
        return limit.GetProperty("limit").GetInt32();
    }

    private static TestAccount NewAccount(FakeExchange exchange, string name)
    {
        var account = new TestAccount($"{name}-key", $"{name}-secret");
        exchange.AddAccount(account.ApiKey, account.ApiSecret);
        return account;
    }
}
