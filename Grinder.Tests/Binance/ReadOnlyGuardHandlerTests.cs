using System.Net;
using Grinder.Grains.Binance;

namespace Grinder.Tests.Binance;

/// <summary>The guard in the Binance HttpClient's pipeline lets out GETs of the allow-list and POST/PUT of exactly the
/// listenKey path; everything else, DELETE of the listenKey included, never reaches the network.</summary>
public sealed class ReadOnlyGuardHandlerTests
{
    [Theory]
    [InlineData("GET", "/fapi/v1/userTrades")]
    [InlineData("GET", "/fapi/v1/time")]
    [InlineData("GET", "/fapi/v1/exchangeInfo")]
    [InlineData("POST", "/fapi/v1/listenKey")]
    [InlineData("PUT", "/fapi/v1/listenKey")]
    public async Task Allowed_requests_reach_the_network(string method, string path)
    {
        var (client, sent) = GuardedClient();

        var response = await client.SendAsync(new HttpRequestMessage(new HttpMethod(method), "https://fapi.binance.com" + path));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(method + " " + path, Assert.Single(sent));
    }

    [Theory]
    [InlineData("DELETE", "/fapi/v1/listenKey")]
    [InlineData("PATCH", "/fapi/v1/listenKey")]
    [InlineData("GET", "/fapi/v1/listenKey")]
    [InlineData("POST", "/fapi/v1/listenKey/")]
    [InlineData("POST", "/fapi/v1/listenkey")]
    [InlineData("PUT", "/fapi/v1/order")]
    [InlineData("POST", "/fapi/v1/order")]
    [InlineData("POST", "/fapi/v1/userTrades")]
    [InlineData("DELETE", "/fapi/v1/allOpenOrders")]
    [InlineData("POST", "/fapi/v1/leverage")]
    [InlineData("PUT", "/api/v3/userDataStream")]
    public async Task Every_other_request_is_refused_before_it_leaves_the_process(string method, string path)
    {
        var (client, sent) = GuardedClient();

        var refused = await Assert.ThrowsAsync<InvalidOperationException>(() =>
            client.SendAsync(new HttpRequestMessage(new HttpMethod(method), "https://fapi.binance.com" + path)));

        Assert.Contains("read-only", refused.Message, StringComparison.Ordinal);
        Assert.Empty(sent);
    }

    private static (HttpClient Client, List<string> Sent) GuardedClient()
    {
        var sent = new List<string>();
        var guard = new ReadOnlyGuardHandler { InnerHandler = new Recorder(sent) };
        return (new HttpClient(guard), sent);
    }

    private sealed class Recorder(List<string> sent) : HttpMessageHandler
    {
        protected override Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
        {
            sent.Add(request.Method.Method + " " + request.RequestUri!.AbsolutePath);
            return Task.FromResult(new HttpResponseMessage(HttpStatusCode.OK));
        }
    }
}
