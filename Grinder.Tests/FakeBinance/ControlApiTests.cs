using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Grinder.FakeBinance;
using Microsoft.Extensions.Time.Testing;

namespace Grinder.Tests.FakeBinance;

/// <summary>The HTTP control API under /_fake/ mirrors the in-process API for scripts.</summary>
[Collection(FakeBinanceCollection.Name)]
public sealed class ControlApiTests
{
    [Fact]
    public async Task A_script_can_seed_an_account_inject_a_fault_and_read_back_what_the_exchange_saw()
    {
        await using var exchange = await FakeExchange.StartAsync();
        using var http = new HttpClient { BaseAddress = exchange.BaseUrl };
        var account = new TestAccount("script-key", "script-secret");

        var added = await PostAsync(http, "_fake/accounts", new { apiKey = account.ApiKey, apiSecret = account.ApiSecret });
        var generated = await PostAsync(http, "_fake/trades/generate", new { apiKey = account.ApiKey, symbol = "BTCUSDT", count = 4, seed = 9, selfTradePairFraction = 0.0 });
        var explicitRows = await PostAsync(http, "_fake/trades", new
        {
            apiKey = account.ApiKey,
            trades = new[] { new { symbol = "ETHUSDT", side = "SELL", price = "3000.5", qty = "0.1", quoteQty = "300.05", realizedPnl = "0", commission = "-0.015", commissionAsset = "USDT", buyer = false, maker = true, positionSide = "BOTH" } },
        });
        await PostAsync(http, "_fake/raw-rows", new { apiKey = account.ApiKey, symbol = "ETHUSDT", id = 5, timeMs = Signed.NowMs(exchange), row = """{"id":5,"price":"oops"}""" });
        var count = await http.GetFromJsonAsync<JsonElement>($"_fake/valid-trade-count?apiKey={account.ApiKey}");
        var ethTrades = await http.GetFromJsonAsync<JsonElement>($"_fake/trades?apiKey={account.ApiKey}&symbol=ETHUSDT");
        await PostAsync(http, "_fake/faults", new { kind = "Status", statusCode = 502, apiKey = account.ApiKey });
        var faulted = await Signed.UserTradesAsync(http, account, "symbol=BTCUSDT", Signed.NowMs(exchange));
        var served = await Signed.RowsAsync(await Signed.UserTradesAsync(http, account, "symbol=ETHUSDT", Signed.NowMs(exchange)));
        await http.DeleteAsync("fapi/v1/allOpenOrders?symbol=BTCUSDT");
        var requests = await http.GetFromJsonAsync<JsonElement>("_fake/requests");
        var writes = await http.GetFromJsonAsync<JsonElement>("_fake/write-attempts");

        Assert.Equal(JsonValueKind.Object, added.ValueKind);
        Assert.Equal(4, generated.GetProperty("rows").GetInt32());
        Assert.Equal(1_000_001, generated.GetProperty("firstId").GetInt64());
        Assert.Equal(1_000_001, explicitRows[0].GetProperty("id").GetInt64());
        Assert.Equal(5, count.GetProperty("validTradeCount").GetInt32());
        Assert.Equal(-0.015m, ethTrades[0].GetProperty("commission").GetDecimal());
        Assert.Equal(HttpStatusCode.BadGateway, faulted.StatusCode);
        Assert.Equal(2, served.GetArrayLength());
        Assert.Equal([5, 1_000_001], Signed.Ids(served));
        Assert.Equal(3, requests.GetArrayLength());
        Assert.Equal("Status", requests[0].GetProperty("fault").GetString());
        Assert.Contains("signature=REDACTED", requests[0].GetProperty("query").GetString(), StringComparison.Ordinal);
        Assert.Equal("/fapi/v1/allOpenOrders", writes.EnumerateArray().Single().GetProperty("path").GetString());
        Assert.DoesNotContain(account.ApiSecret, added.GetRawText() + requests.GetRawText() + writes.GetRawText(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Settings_change_clock_skew_and_weight_limit_and_reset_clears_the_request_log()
    {
        var clock = new FakeTimeProvider(DateTimeOffset.UnixEpoch.AddDays(20_000));
        await using var exchange = await FakeExchange.StartAsync(new FakeExchangeOptions { TimeProvider = clock });
        using var http = new HttpClient { BaseAddress = exchange.BaseUrl };

        var status = await PostAsync(http, "_fake/settings", new { clockSkewMs = -2500, weightLimitPerMinute = 100 });
        var time = await http.GetFromJsonAsync<JsonElement>("fapi/v1/time");
        var before = (await http.GetFromJsonAsync<JsonElement>("_fake/requests")).GetArrayLength();
        await PostAsync(http, "_fake/requests/reset", new { });
        var after = (await http.GetFromJsonAsync<JsonElement>("_fake/requests")).GetArrayLength();

        Assert.Equal(100, status.GetProperty("weightLimitPerMinute").GetInt32());
        Assert.Equal(clock.GetUtcNow().ToUnixTimeMilliseconds() - 2500, time.GetProperty("serverTime").GetInt64());
        Assert.Equal(100, exchange.WeightLimitPerMinute);
        Assert.Equal(1, before);
        Assert.Equal(0, after);
    }

    [Theory]
    [InlineData("_fake/accounts", """{"apiKey":"k"}""", HttpStatusCode.BadRequest)]
    [InlineData("_fake/trades/generate", """{"apiKey":"nobody","symbol":"BTCUSDT","count":1,"seed":1}""", HttpStatusCode.NotFound)]
    [InlineData("_fake/faults", """{"kind":"NoSuchKind"}""", HttpStatusCode.BadRequest)]
    [InlineData("_fake/nothing-here", "{}", HttpStatusCode.NotFound)]
    public async Task Bad_control_calls_get_a_clear_error(string path, string body, HttpStatusCode expected)
    {
        await using var exchange = await FakeExchange.StartAsync();
        using var http = new HttpClient { BaseAddress = exchange.BaseUrl };

        var response = await http.PostAsync(path, new StringContent(body, System.Text.Encoding.UTF8, "application/json"));
        var error = await response.Content.ReadFromJsonAsync<JsonElement>();

        Assert.Equal(expected, response.StatusCode);
        Assert.False(string.IsNullOrWhiteSpace(error.GetProperty("error").GetString()));
        Assert.Empty(exchange.Requests);
    }

    private static async Task<JsonElement> PostAsync(HttpClient http, string path, object body)
    {
        var response = await http.PostAsJsonAsync(path, body);
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.IsSuccessStatusCode, $"{path}: {(int)response.StatusCode} {text}");
        return JsonDocument.Parse(text).RootElement;
    }
}
