using System.Net;
using Grinder.FakeBinance;

namespace Grinder.Tests.FakeBinance;

/// <summary>The fake is read-only: order endpoints and any non-GET request are refused and audited in <see cref="FakeExchange.WriteAttempts"/>.</summary>
[Collection(FakeBinanceCollection.Name)]
public sealed class WriteAttemptTests(FakeExchangeFixture fixture)
{
    [Theory]
    [InlineData("POST", "fapi/v1/order")]
    [InlineData("GET", "fapi/v1/order")]
    [InlineData("POST", "fapi/v1/batchOrders")]
    [InlineData("DELETE", "fapi/v1/allOpenOrders")]
    [InlineData("POST", "fapi/v1/countdownCancelAll")]
    [InlineData("DELETE", "fapi/v1/listenKey")]
    [InlineData("PUT", "fapi/v1/leverage")]
    [InlineData("POST", "fapi/v1/userTrades")]
    [InlineData("DELETE", "anything/at/all")]
    public async Task Write_attempts_are_refused_and_recorded(string method, string path)
    {
        var marker = Guid.NewGuid().ToString("N");
        using var request = new HttpRequestMessage(new HttpMethod(method), $"{path}?symbol=BTCUSDT&marker={marker}");
        request.Headers.Add("X-MBX-APIKEY", "writer-key");

        var response = await fixture.Http.SendAsync(request);

        var error = await Signed.ErrorAsync(response, HttpStatusCode.Forbidden);
        Assert.Equal(-2015, error.Code);
        var attempt = Assert.Single(fixture.Exchange.WriteAttempts, r => r.Query.Contains(marker, StringComparison.Ordinal));
        Assert.Equal(method, attempt.Method);
        Assert.Equal("/" + path, attempt.Path);
        Assert.Equal("writer-key", attempt.ApiKey);
        Assert.Equal(403, attempt.StatusCode);
    }

    [Fact]
    public async Task Reads_are_not_write_attempts_and_resetting_the_request_log_keeps_the_write_audit()
    {
        await using var exchange = await FakeExchange.StartAsync();
        using var http = new HttpClient { BaseAddress = exchange.BaseUrl };

        await http.GetAsync("fapi/v1/time");
        await http.GetAsync("fapi/v1/exchangeInfo");
        var readsOnly = exchange.WriteAttempts.Count;
        await http.PostAsync("fapi/v1/order", null);
        exchange.ResetRequestLog();

        Assert.Equal(0, readsOnly);
        Assert.Empty(exchange.Requests);
        Assert.Equal("/fapi/v1/order", Assert.Single(exchange.WriteAttempts).Path);
    }

    [Fact]
    public async Task The_request_log_keeps_the_newest_requests_up_to_its_capacity()
    {
        await using var exchange = await FakeExchange.StartAsync(new FakeExchangeOptions { MaxLoggedRequests = 10 });
        using var http = new HttpClient { BaseAddress = exchange.BaseUrl };

        for (var i = 0; i < 30; i++)
        {
            await http.GetAsync($"fapi/v1/time?n={i}");
        }

        Assert.InRange(exchange.Requests.Count, 10, 11);
        Assert.Equal("n=29", exchange.Requests[^1].Query);
    }
}
