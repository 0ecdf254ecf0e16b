using Grinder.FakeBinance;
using Grinder.Grains.Binance;
using Grinder.Tests.FakeBinance;
using Microsoft.Extensions.Time.Testing;

namespace Grinder.Tests.Binance;

/// <summary>The silo-wide weight governor and the server clock against the fake exchange (Binance docs: per-IP weight, 429/418 with Retry-After, -1021).</summary>
[Collection(FakeBinanceCollection.Name)]
public sealed class RateLimitAndClockTests(FakeExchangeFixture fixture) : IDisposable
{
    private const string Symbol = "SOLUSDT";
    private readonly FakeExchange _exchange = fixture.Exchange;
    private readonly ClientHarness _client = new(fixture.Exchange.BaseUrl);

    public void Dispose()
    {
        _exchange.ClockSkew = TimeSpan.Zero;
        _client.Dispose();
    }

    [Theory]
    [InlineData(FakeFaultKind.RateLimited429)]
    [InlineData(FakeFaultKind.Banned418)]
    public async Task A_429_or_418_for_one_account_holds_back_every_account_of_the_silo_until_retry_after(FakeFaultKind kind)
    {
        var accountA = fixture.NewCredentials();
        var accountB = fixture.NewCredentials();
        var tradesA = _exchange.GenerateTrades(accountA.ApiKey, Symbol, 3, seed: 41);
        var tradesB = _exchange.GenerateTrades(accountB.ApiKey, Symbol, 4, seed: 42);
        // Retry-After 2 s, longer than the harness's DefaultRetryAfter (1 s): the header must win.
        _exchange.EnqueueFault(new FakeFault(kind, ApiKey: accountA.ApiKey, RetryAfterSeconds: 2));

        var limited = await _client.FetchAsync(accountA, Symbol, new FetchPosition(tradesA[0].Id - 1, 0, null, false));
        var otherAccount = await _client.FetchAsync(accountB, Symbol, new FetchPosition(tradesB[0].Id - 1, 0, null, false));

        Assert.Equal(BinanceFailureKind.Http, limited.Error);
        Assert.Null(otherAccount.Error);
        Assert.Equal(tradesB.Select(t => t.Id), otherAccount.Trades.Select(t => t.Id));

        // B's request reached the exchange only after A's Retry-After had passed (both stamped by the fake's clock).
        var refused = Assert.Single(await _exchange.UserTradesRequestsAsync(accountA, 1));
        var nextFromB = Assert.Single(await _exchange.UserTradesRequestsAsync(accountB, 1));
        Assert.Equal(kind, refused.Fault);
        Assert.True(
            nextFromB.Time >= refused.Time + TimeSpan.FromSeconds(2),
            $"B asked at {nextFromB.Time:O}, only {(nextFromB.Time - refused.Time).TotalMilliseconds} ms after A's {(int)kind} at {refused.Time:O}");
        var rateLimited = Assert.Single(_client.Logs.Named("BINANCE_RATE_LIMITED"));
        Assert.Contains("pauses for 2 s", rateLimited.Message);
        _client.AssertCleanRun(_exchange, accountA, accountB);
    }

    [Fact]
    public async Task The_used_weight_header_of_every_response_reaches_the_governor()
    {
        // An exchange of its own, on a clock that stands still (the client's too): the IP's minute holds only this test's
        // weight, and no minute ends between the requests.
        var clock = new FakeTimeProvider(DateTimeOffset.UtcNow);
        await using var exchange = await FakeExchange.StartAsync(new FakeExchangeOptions { TimeProvider = clock });
        var account = new BinanceCredentials("weight-key", "weight-secret");
        exchange.AddAccount(account.ApiKey, account.ApiSecret);
        var trades = exchange.GenerateTrades(account.ApiKey, Symbol, 2, seed: 43);
        using var client = new ClientHarness(exchange.BaseUrl, time: clock);
        using var otherClient = new HttpClient { BaseAddress = exchange.BaseUrl };

        // Weight the governor never reserved: another client on the same IP (Binance counts weight per IP) pings 10 times.
        for (var i = 0; i < 10; i++)
        {
            using var ping = await otherClient.GetAsync("fapi/v1/ping");
            ping.EnsureSuccessStatusCode();
        }

        var result = await client.FetchAsync(account, Symbol, new FetchPosition(trades[0].Id - 1, 0, null, false));
        Assert.Null(result.Error);

        // The exchange's count after the fetch (1 for /time, 5 for userTrades): 10 + 6, read off one more ping (weight 1).
        using var probe = await otherClient.GetAsync("fapi/v1/ping");
        var reported = Signed.UsedWeight(probe) - 1;
        Assert.Equal(16, reported);

        // The governor reserved only its own 6; it holds what the exchange said.
        Assert.Equal(reported, client.Governor.UsedWeight);
    }

    [Theory]
    [InlineData(30)]
    [InlineData(-30)]
    public async Task Error_1021_resynchronises_the_server_clock_once_and_retries_once(int skewSeconds)
    {
        var account = fixture.NewCredentials();
        var trades = _exchange.GenerateTrades(account.ApiKey, Symbol, 5, seed: 44);
        var position = new FetchPosition(trades[0].Id - 1, 0, null, false);
        var warmUp = await _client.FetchAsync(account, Symbol, position);
        Assert.Null(warmUp.Error);
        Assert.InRange(_client.Clock.OffsetMs, -1_000, 1_000);

        // The exchange's clock jumps: the client's offset is now wrong by 30 s either way.
        _exchange.ClockSkew = TimeSpan.FromSeconds(skewSeconds);
        var result = await _client.FetchAsync(account, Symbol, position);

        Assert.Null(result.Error);
        Assert.Equal(trades.Select(t => t.Id), result.Trades.Select(t => t.Id));
        Assert.InRange(_client.Clock.OffsetMs, (skewSeconds * 1000) - 1_000, (skewSeconds * 1000) + 1_000);
        Assert.Equal(3, result.Requests); // refused userTrades, /time, userTrades again
        var ofThisAccount = await _exchange.UserTradesRequestsAsync(account, 3);
        Assert.Equal([null, -1021, null], ofThisAccount.Select(r => r.ErrorCode)); // warm-up, then refused and retried
        Assert.Contains(_client.Logs.Named("BINANCE_CLOCK_RESYNC"), e => e.Message.Contains("error -1021", StringComparison.Ordinal));
        _client.AssertCleanRun(_exchange, account);
    }

    [Fact]
    public async Task A_second_1021_after_the_resync_is_reported_not_retried_forever()
    {
        var account = fixture.NewCredentials();
        var trades = _exchange.GenerateTrades(account.ApiKey, Symbol, 1, seed: 45);
        _exchange.EnqueueFault(new FakeFault(FakeFaultKind.Status, Times: 2, ApiKey: account.ApiKey, StatusCode: 400, BinanceCode: -1021));

        var result = await _client.FetchAsync(account, Symbol, new FetchPosition(trades[0].Id - 1, 0, null, false));

        Assert.Equal(BinanceFailureKind.Http, result.Error);
        Assert.StartsWith("HTTP 400 from /fapi/v1/userTrades: Binance code -1021", result.ErrorDetail);
        Assert.Equal([-1021, -1021], (await _exchange.UserTradesRequestsAsync(account, 2)).Select(r => r.ErrorCode));
        _client.AssertCleanRun(_exchange, account);
    }
}
