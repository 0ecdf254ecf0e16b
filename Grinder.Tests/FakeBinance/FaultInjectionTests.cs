using System.Net;
using System.Text.Json;
using Grinder.FakeBinance;

namespace Grinder.Tests.FakeBinance;

/// <summary>Each injected fault kind, its matching rules and the seeded random faults.</summary>
[Collection(FakeBinanceCollection.Name)]
public sealed class FaultInjectionTests(FakeExchangeFixture fixture)
{
    private FakeExchange Exchange => fixture.Exchange;

    private HttpClient Http => fixture.Http;

    [Theory]
    [InlineData(FakeFaultKind.Status, 500, -1000)]
    [InlineData(FakeFaultKind.Status, 502, -1001)]
    [InlineData(FakeFaultKind.ServiceUnavailable503, 503, -1000)]
    [InlineData(FakeFaultKind.RateLimited429, 429, -1003)]
    [InlineData(FakeFaultKind.Banned418, 418, -1003)]
    public async Task Error_faults_answer_their_status_with_a_Binance_error_body(FakeFaultKind kind, int status, int code)
    {
        var account = fixture.NewAccount();
        Exchange.EnqueueFault(new FakeFault(kind, ApiKey: account.ApiKey, StatusCode: status, RetryAfterSeconds: 7, BinanceCode: kind == FakeFaultKind.Status && status == 502 ? -1001 : null));

        var response = await Signed.UserTradesAsync(Http, account, "symbol=BTCUSDT", Signed.NowMs(Exchange));

        Assert.Equal(code, (await Signed.ErrorAsync(response, (HttpStatusCode)status)).Code);
        if (kind is FakeFaultKind.RateLimited429 or FakeFaultKind.Banned418)
        {
            Assert.Equal(TimeSpan.FromSeconds(7), response.Headers.RetryAfter!.Delta);
        }

        Assert.Equal(kind, Exchange.Requests.Last(r => r.ApiKey == account.ApiKey).Fault);
    }

    [Fact]
    public async Task An_html_error_page_is_not_json()
    {
        var account = fixture.NewAccount();
        Exchange.EnqueueFault(new FakeFault(FakeFaultKind.HtmlErrorPage, ApiKey: account.ApiKey, StatusCode: 502));

        var response = await Signed.UserTradesAsync(Http, account, "symbol=BTCUSDT", Signed.NowMs(Exchange));
        var body = await response.Content.ReadAsStringAsync();

        Assert.Equal(HttpStatusCode.BadGateway, response.StatusCode);
        Assert.Equal("text/html", response.Content.Headers.ContentType!.MediaType);
        Assert.StartsWith("<html>", body, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Truncated_json_is_a_200_that_does_not_parse()
    {
        var account = fixture.NewAccount();
        Exchange.GenerateTrades(account.ApiKey, "BTCUSDT", 5, seed: 1);
        Exchange.EnqueueFault(new FakeFault(FakeFaultKind.TruncatedJson, ApiKey: account.ApiKey));

        var response = await Signed.UserTradesAsync(Http, account, "symbol=BTCUSDT", Signed.NowMs(Exchange));
        var body = await response.Content.ReadAsStringAsync();

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.StartsWith("[{\"symbol\":\"BTCUSDT\"", body, StringComparison.Ordinal);
        Assert.ThrowsAny<JsonException>(() => JsonDocument.Parse(body));
    }

    [Fact]
    public async Task Non_array_json_wraps_the_rows_in_an_object()
    {
        var account = fixture.NewAccount();
        Exchange.GenerateTrades(account.ApiKey, "BTCUSDT", 2, seed: 1);
        Exchange.EnqueueFault(new FakeFault(FakeFaultKind.NonArrayJson, ApiKey: account.ApiKey));

        var response = await Signed.UserTradesAsync(Http, account, "symbol=BTCUSDT", Signed.NowMs(Exchange));
        var root = JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement;

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(JsonValueKind.Object, root.ValueKind);
        Assert.Equal(2, root.GetProperty("rows").GetArrayLength());
    }

    [Fact]
    public async Task Schema_drift_sends_numbers_as_json_numbers_and_renames_maker()
    {
        var account = fixture.NewAccount();
        Exchange.GenerateTrades(account.ApiKey, "BTCUSDT", 1, seed: 1);
        Exchange.EnqueueFault(new FakeFault(FakeFaultKind.SchemaDrift, ApiKey: account.ApiKey));

        var row = (await Signed.RowsAsync(await Signed.UserTradesAsync(Http, account, "symbol=BTCUSDT", Signed.NowMs(Exchange))))[0];

        Assert.Equal(JsonValueKind.Number, row.GetProperty("price").ValueKind);
        Assert.Equal(JsonValueKind.Number, row.GetProperty("qty").ValueKind);
        Assert.False(row.TryGetProperty("maker", out _));
        Assert.True(row.TryGetProperty("isMaker", out _));
    }

    [Fact]
    public async Task An_oversized_body_is_a_valid_page_padded_to_the_configured_size()
    {
        await using var exchange = await FakeExchange.StartAsync(new FakeExchangeOptions { OversizedBodyBytes = 2 * 1024 * 1024 });
        using var http = new HttpClient { BaseAddress = exchange.BaseUrl };
        var account = new TestAccount("big-key", "big-secret");
        exchange.AddAccount(account.ApiKey, account.ApiSecret);
        var trades = exchange.GenerateTrades(account.ApiKey, "BTCUSDT", 3, seed: 1);
        exchange.EnqueueFault(new FakeFault(FakeFaultKind.OversizedBody));

        var response = await Signed.UserTradesAsync(http, account, "symbol=BTCUSDT", Signed.NowMs(exchange));
        var body = await response.Content.ReadAsByteArrayAsync();

        Assert.Equal(2 * 1024 * 1024, response.Content.Headers.ContentLength);
        Assert.Equal(2 * 1024 * 1024, body.Length);
        Assert.Equal(trades.Select(t => t.Id), Signed.Ids(JsonDocument.Parse(body).RootElement));
    }

    [Fact]
    public async Task A_delayed_answer_outlives_the_client_timeout_and_the_next_request_is_normal()
    {
        await using var exchange = await FakeExchange.StartAsync();
        using var http = new HttpClient { BaseAddress = exchange.BaseUrl };
        var account = new TestAccount("slow-key", "slow-secret");
        exchange.AddAccount(account.ApiKey, account.ApiSecret);
        exchange.GenerateTrades(account.ApiKey, "BTCUSDT", 1, seed: 1);
        exchange.EnqueueFault(new FakeFault(FakeFaultKind.Delay, Delay: TimeSpan.FromMinutes(5)));
        var totalParams = $"symbol=BTCUSDT&timestamp={Signed.NowMs(exchange)}";
        using var clientTimeout = new CancellationTokenSource();

        var delayed = Signed.GetAsync(http, account.ApiKey, $"fapi/v1/userTrades?{totalParams}&signature={Signed.Sign(account.ApiSecret, totalParams)}", clientTimeout.Token);
        Assert.True(SpinWait.SpinUntil(() => exchange.PendingFaults == 0, TimeSpan.FromSeconds(10)), "the delayed request never reached the fake");
        await clientTimeout.CancelAsync();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => delayed);
        var next = await Signed.UserTradesAsync(http, account, "symbol=BTCUSDT", Signed.NowMs(exchange));
        var record = await exchange.WaitForRequestAsync(r => r.Fault == FakeFaultKind.Delay, TimeSpan.FromSeconds(10));

        Assert.Equal(1, (await Signed.RowsAsync(next)).GetArrayLength());
        Assert.True(record.Aborted);
    }

    [Fact]
    public async Task A_fault_applies_Times_times_then_requests_are_normal_again()
    {
        var account = fixture.NewAccount();
        Exchange.EnqueueFault(new FakeFault(FakeFaultKind.ServiceUnavailable503, Times: 2, ApiKey: account.ApiKey));

        var statuses = new List<HttpStatusCode>();
        for (var i = 0; i < 3; i++)
        {
            statuses.Add((await Signed.UserTradesAsync(Http, account, "symbol=BTCUSDT", Signed.NowMs(Exchange))).StatusCode);
        }

        Assert.Equal([HttpStatusCode.ServiceUnavailable, HttpStatusCode.ServiceUnavailable, HttpStatusCode.OK], statuses);
    }

    [Fact]
    public async Task A_fault_for_one_symbol_does_not_touch_another_and_queued_faults_apply_in_order()
    {
        var account = fixture.NewAccount();
        Exchange.EnqueueFault(new FakeFault(FakeFaultKind.Status, ApiKey: account.ApiKey, Symbol: "ETHUSDT", StatusCode: 500));
        Exchange.EnqueueFault(new FakeFault(FakeFaultKind.Status, ApiKey: account.ApiKey, Symbol: "ETHUSDT", StatusCode: 502));

        var btc = await Signed.UserTradesAsync(Http, account, "symbol=BTCUSDT", Signed.NowMs(Exchange));
        var eth1 = await Signed.UserTradesAsync(Http, account, "symbol=ETHUSDT", Signed.NowMs(Exchange));
        var eth2 = await Signed.UserTradesAsync(Http, account, "symbol=ETHUSDT", Signed.NowMs(Exchange));

        Assert.Equal(HttpStatusCode.OK, btc.StatusCode);
        Assert.Equal(HttpStatusCode.InternalServerError, eth1.StatusCode);
        Assert.Equal(HttpStatusCode.BadGateway, eth2.StatusCode);
    }

    [Fact]
    public async Task Random_faults_are_reproducible_from_their_seed()
    {
        var first = await StatusesWithRandomFaultsAsync(seed: 42);
        var second = await StatusesWithRandomFaultsAsync(seed: 42);

        Assert.Equal(first, second);
        Assert.Contains(HttpStatusCode.OK, first);
        Assert.Contains(first, s => s != HttpStatusCode.OK);
    }

    private static async Task<List<HttpStatusCode>> StatusesWithRandomFaultsAsync(int seed)
    {
        await using var exchange = await FakeExchange.StartAsync(new FakeExchangeOptions
        {
            RandomFaults = new FakeRandomFaultOptions { Seed = seed, ServerError = 0.3, RateLimited = 0.2, Malformed = 0.1 },
        });
        using var http = new HttpClient { BaseAddress = exchange.BaseUrl };
        var account = new TestAccount("random-key", "random-secret");
        exchange.AddAccount(account.ApiKey, account.ApiSecret);
        var statuses = new List<HttpStatusCode>();
        for (var i = 0; i < 20; i++)
        {
            statuses.Add((await Signed.UserTradesAsync(http, account, "symbol=BTCUSDT", Signed.NowMs(exchange))).StatusCode);
        }

        return statuses;
    }
}
