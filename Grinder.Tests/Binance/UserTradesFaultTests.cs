using System.Net;
using System.Net.Sockets;
using Grinder.FakeBinance;
using Grinder.Grains.Binance;
using Grinder.Tests.FakeBinance;

namespace Grinder.Tests.Binance;

/// <summary>Every exchange and payload fault becomes a counted reason, never an exception, a stuck cursor or a lost fill.</summary>
[Collection(FakeBinanceCollection.Name)]
public sealed class UserTradesFaultTests(FakeExchangeFixture fixture) : IDisposable
{
    private const string Symbol = "ETHUSDT";
    private readonly FakeExchange _exchange = fixture.Exchange;
    // Short enough that the delay fault's case stays quick, long enough that a healthy page of a loaded CI machine never
    // reaches it (1 s was seen to time out the retry of a fault case under load); the delay fault holds its answer far longer.
    private readonly ClientHarness _client = new(fixture.Exchange.BaseUrl, new() { ["RequestTimeout"] = "00:00:03" });

    public void Dispose() => _client.Dispose();

    public static IEnumerable<object[]> Faults =>
    [
        [FakeFaultKind.Status, 500, BinanceFailureKind.Http, "HTTP 500 from /fapi/v1/userTrades: Binance code -1000"],
        [FakeFaultKind.Status, 400, BinanceFailureKind.Http, "HTTP 400 from /fapi/v1/userTrades: Binance code -1000"],
        [FakeFaultKind.ServiceUnavailable503, 503, BinanceFailureKind.Http, "HTTP 503 from /fapi/v1/userTrades"],
        [FakeFaultKind.RateLimited429, 429, BinanceFailureKind.Http, "HTTP 429 from /fapi/v1/userTrades: Binance code -1003"],
        [FakeFaultKind.Banned418, 418, BinanceFailureKind.Http, "HTTP 418 from /fapi/v1/userTrades: Binance code -1003"],
        [FakeFaultKind.HtmlErrorPage, 502, BinanceFailureKind.Http, "HTTP 502 from /fapi/v1/userTrades"],
        [FakeFaultKind.HtmlErrorPage, 200, BinanceFailureKind.Parse, "/fapi/v1/userTrades ETHUSDT: response is HTML/XML, expected a JSON array"],
        [FakeFaultKind.TruncatedJson, 200, BinanceFailureKind.Parse, "/fapi/v1/userTrades ETHUSDT: malformed or truncated JSON"],
        [FakeFaultKind.NonArrayJson, 200, BinanceFailureKind.Parse, "/fapi/v1/userTrades ETHUSDT: response is a JSON object, expected a JSON array"],
        [FakeFaultKind.OversizedBody, 200, BinanceFailureKind.Parse, "response of /fapi/v1/userTrades is larger than 4194304 bytes"], // the fake pads to 32 MB
        [FakeFaultKind.Delay, 200, BinanceFailureKind.Http, "timeout after 3 s on /fapi/v1/userTrades"],
    ];

    [Theory]
    [MemberData(nameof(Faults))]
    public async Task A_faulty_page_is_reported_leaves_the_cursor_in_place_and_the_next_poll_reads_everything(
        FakeFaultKind kind, int status, BinanceFailureKind expected, string detailStart)
    {
        var account = fixture.NewCredentials();
        var generated = _exchange.GenerateTrades(account.ApiKey, Symbol, 50, seed: 31);
        var start = new FetchPosition(generated[0].Id - 1, 7, null, false);
        _exchange.EnqueueFault(new FakeFault(kind, ApiKey: account.ApiKey, StatusCode: status, Delay: TimeSpan.FromSeconds(30), RetryAfterSeconds: 1));

        var failed = await _client.FetchAsync(account, Symbol, start);

        Assert.Equal(expected, failed.Error);
        Assert.StartsWith(detailStart, failed.ErrorDetail);
        Assert.Equal(start, failed.Next);
        Assert.Empty(failed.Trades);
        Assert.Empty(failed.Rejected);

        // The fault is gone (after a 429/418 the governor first waits out Retry-After): the same position reads every row.
        var retried = await _client.FetchAsync(account, Symbol, failed.Next);

        Assert.Null(retried.Error);
        Assert.Equal(generated.Select(t => t.Id), retried.Trades.Select(t => t.Id));
        Assert.DoesNotContain(account.ApiKey, failed.ErrorDetail);
        Assert.DoesNotContain(account.ApiSecret, failed.ErrorDetail);
        Assert.DoesNotContain("signature=", failed.ErrorDetail);
        Assert.Single(_client.Logs.Named("BINANCE_REQUEST_FAILED").Concat(_client.Logs.Named("BINANCE_PAGE_INVALID")));
        _client.AssertCleanRun(_exchange, account);
    }

    [Fact]
    public async Task Schema_drift_rejects_every_row_with_a_reason_and_still_moves_the_read_position()
    {
        var account = fixture.NewCredentials();
        var generated = _exchange.GenerateTrades(account.ApiKey, Symbol, 25, seed: 32);
        _exchange.EnqueueFault(new FakeFault(FakeFaultKind.SchemaDrift, ApiKey: account.ApiKey));

        var result = await _client.FetchAsync(account, Symbol, new FetchPosition(generated[0].Id - 1, 0, null, false));

        // Numbers instead of strings: not guessed at, quarantined; the position passes them (no poison pill). The last one
        // has no later row to confirm its id in order, so it is not passed and is read again next poll.
        Assert.Null(result.Error);
        Assert.Empty(result.Trades);
        Assert.Equal(25, result.Rejected.Count);
        Assert.All(result.Rejected, r => Assert.Equal("price: expected a JSON string", r.Reason));
        Assert.Equal(generated.Select(t => (long?)t.Id), result.Rejected.Select(r => r.TradeId));
        Assert.Equal(generated[^2].Id, result.Next.LastTradeId);
        Assert.Equal(generated[^2].TimeMs, result.Next.LastTimeMs);
        // The reader reports rejected rows and does not log them: the account logs each once, when it quarantines it.
        Assert.Empty(_client.Logs.Named("FILL_PARSE_ERROR"));
        _client.AssertCleanRun(_exchange, account);
    }

    [Fact]
    public async Task A_later_page_failing_keeps_the_rows_and_position_of_the_pages_before_it()
    {
        var account = fixture.NewCredentials();
        var generated = _exchange.GenerateTrades(account.ApiKey, Symbol, 2500, seed: 33);
        var start = new FetchPosition(generated[0].Id - 1, 0, null, false);

        // Text that is not JSON among the rows of the second page: that page cannot be trusted as a whole.
        _exchange.AddRawRow(account.ApiKey, Symbol, generated[1499].Id, generated[1499].TimeMs, "{\"id\":" + generated[1499].Id + ",\"price\":");

        var result = await _client.FetchAsync(account, Symbol, start);

        Assert.Equal(BinanceFailureKind.Parse, result.Error);
        Assert.StartsWith("/fapi/v1/userTrades ETHUSDT: malformed or truncated JSON", result.ErrorDetail);
        Assert.Equal(generated.Take(1000).Select(t => t.Id), result.Trades.Select(t => t.Id));
        Assert.Equal(new FetchPosition(generated[999].Id, generated[999].TimeMs, null, ResumeInclusive: true), result.Next);
        Assert.Equal(2, (await _exchange.UserTradesRequestsAsync(account, 2)).Count);
        _client.AssertCleanRun(_exchange, account);
    }

    [Fact]
    public async Task An_unknown_api_key_is_an_http_error_with_binance_code_and_no_key_in_the_detail()
    {
        var stranger = new BinanceCredentials("not-registered-key-1234", "not-registered-secret-5678");

        var result = await _client.FetchAsync(stranger, Symbol, new FetchPosition(1000, 0, null, false));

        Assert.Equal(BinanceFailureKind.Http, result.Error);
        Assert.StartsWith("HTTP 401 from /fapi/v1/userTrades: Binance code -2015", result.ErrorDetail);
        Assert.DoesNotContain("not-registered-key-1234", result.ErrorDetail);
        _client.AssertCleanRun(_exchange, stranger);
    }

    [Fact]
    public async Task A_wrong_secret_is_an_http_error_with_binance_code_1022()
    {
        var account = fixture.NewCredentials();
        var wrongSecret = new BinanceCredentials(account.ApiKey, "wrong-secret-of-this-account");

        var result = await _client.FetchAsync(wrongSecret, Symbol, new FetchPosition(1000, 0, null, false));

        Assert.Equal(BinanceFailureKind.Http, result.Error);
        Assert.StartsWith("HTTP 400 from /fapi/v1/userTrades: Binance code -1022", result.ErrorDetail);
        _client.AssertCleanRun(_exchange, account, wrongSecret);
    }

    [Fact]
    public async Task Missing_credentials_are_reported_without_a_request()
    {
        var result = await _client.FetchAsync(new BinanceCredentials("", ""), Symbol, new FetchPosition(1000, 0, null, false));

        Assert.Equal(BinanceFailureKind.Http, result.Error);
        Assert.Equal("no API key/secret configured for /fapi/v1/userTrades", result.ErrorDetail);
    }

    [Fact]
    public async Task Connection_refused_is_a_transport_failure_not_an_exception()
    {
        // A port that was free a moment ago and has nobody listening.
        var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        var port = ((IPEndPoint)listener.LocalEndpoint).Port;
        listener.Stop();
        using var client = new ClientHarness(new Uri($"http://127.0.0.1:{port}/"));
        var account = new BinanceCredentials("offline-key", "offline-secret");

        var result = await client.FetchAsync(account, Symbol, new FetchPosition(5, 0, null, false));

        Assert.Equal(BinanceFailureKind.Http, result.Error);
        Assert.StartsWith("server time: transport failure on /fapi/v1/time: ConnectionError", result.ErrorDetail);
        Assert.Equal(new FetchPosition(5, 0, null, false), result.Next);
        client.AssertCleanRun(_exchange, account);
    }

    [Fact]
    public async Task Every_non_get_or_unlisted_path_is_refused_before_it_leaves_the_process()
    {
        var factory = (IHttpClientFactory)_client.Services.GetService(typeof(IHttpClientFactory))!;
        using var http = factory.CreateClient(nameof(BinanceRestClient));

        await Assert.ThrowsAsync<InvalidOperationException>(() => http.PostAsync(new Uri(_exchange.BaseUrl, "fapi/v1/order"), new StringContent("")));
        await Assert.ThrowsAsync<InvalidOperationException>(() => http.DeleteAsync(new Uri(_exchange.BaseUrl, "fapi/v1/allOpenOrders?symbol=BTCUSDT")));
        await Assert.ThrowsAsync<InvalidOperationException>(() => http.GetAsync(new Uri(_exchange.BaseUrl, "fapi/v1/openOrders")));

        Assert.DoesNotContain(_exchange.Requests, r => r.Path.Contains("rder", StringComparison.OrdinalIgnoreCase));
        Assert.Empty(_exchange.WriteAttempts);
    }
}
