using System.Net;
using System.Text.Json;
using Grinder.FakeBinance;
using Microsoft.Extensions.Time.Testing;

namespace Grinder.Tests.FakeBinance;

/// <summary>POST/PUT /fapi/v1/listenKey with Binance's semantics (one shared key per account, 60 min validity, -1125), and the
/// write log: POST and PUT are not write attempts, DELETE is.</summary>
[Collection(FakeBinanceCollection.Name)]
public sealed class ListenKeyTests(FakeExchangeFixture fixture)
{
    private FakeExchange Exchange => fixture.Exchange;

    private HttpClient Http => fixture.Http;

    [Fact]
    public async Task Post_returns_the_accounts_one_active_key_and_put_keeps_it_alive_without_a_signature()
    {
        var account = fixture.NewAccount();
        var other = fixture.NewAccount();

        var first = await ListenKeys.PostAsync(Http, account.ApiKey);
        var second = await ListenKeys.PostAsync(Http, account.ApiKey);
        var otherKey = await ListenKeys.PostAsync(Http, other.ApiKey);
        var put = await ListenKeys.SendAsync(Http, HttpMethod.Put, account.ApiKey);
        var putBody = JsonDocument.Parse(await put.Content.ReadAsStringAsync()).RootElement;

        Assert.Equal(first, second);
        Assert.NotEqual(first, otherKey);
        Assert.Equal(64, first.Length);
        Assert.Equal(HttpStatusCode.OK, put.StatusCode);
        Assert.Equal(first, putBody.GetProperty("listenKey").GetString());
        Assert.Equal(first, Exchange.ActiveListenKey(account.ApiKey));
        Assert.DoesNotContain(Exchange.WriteAttempts, r => r.ApiKey == account.ApiKey);
        Assert.Equal(2, Exchange.Requests.Count(r => r.ApiKey == account.ApiKey && r.Method == "POST" && r.StatusCode == 200));
    }

    [Fact]
    public async Task Put_without_an_active_key_or_with_a_key_that_is_not_the_active_one_answers_1125()
    {
        var account = fixture.NewAccount();

        var none = await Signed.ErrorAsync(await ListenKeys.SendAsync(Http, HttpMethod.Put, account.ApiKey), HttpStatusCode.BadRequest);
        await ListenKeys.PostAsync(Http, account.ApiKey);
        var wrong = await Signed.ErrorAsync(await ListenKeys.SendAsync(Http, HttpMethod.Put, account.ApiKey, "listenKey=not-the-key"), HttpStatusCode.BadRequest);

        Assert.Equal(new BinanceError(-1125, "This listenKey does not exist."), none);
        Assert.Equal(-1125, wrong.Code);
    }

    [Fact]
    public async Task An_unknown_or_missing_api_key_is_refused()
    {
        var unknown = await Signed.ErrorAsync(await ListenKeys.SendAsync(Http, HttpMethod.Post, "nobody-" + Guid.NewGuid().ToString("N")), HttpStatusCode.Unauthorized);
        var missing = await Signed.ErrorAsync(await ListenKeys.SendAsync(Http, HttpMethod.Put, apiKey: null), HttpStatusCode.Unauthorized);

        Assert.Equal(-2015, unknown.Code);
        Assert.Equal(-2015, missing.Code);
    }

    [Fact]
    public async Task A_key_expires_after_its_validity_without_keep_alive_and_the_next_post_creates_a_new_one()
    {
        var clock = new FakeTimeProvider(DateTimeOffset.UtcNow);
        await using var exchange = await FakeExchange.StartAsync(new FakeExchangeOptions { TimeProvider = clock });
        using var http = new HttpClient { BaseAddress = exchange.BaseUrl };
        exchange.AddAccount("expiry-key", "expiry-secret");

        var key = await ListenKeys.PostAsync(http, "expiry-key");
        clock.Advance(TimeSpan.FromMinutes(59));
        var keptAlive = (await ListenKeys.SendAsync(http, HttpMethod.Put, "expiry-key")).StatusCode;
        clock.Advance(TimeSpan.FromMinutes(59));
        var stillActive = exchange.ActiveListenKey("expiry-key");
        clock.Advance(TimeSpan.FromMinutes(1));
        var expired = await Signed.ErrorAsync(await ListenKeys.SendAsync(http, HttpMethod.Put, "expiry-key"), HttpStatusCode.BadRequest);
        var fresh = await ListenKeys.PostAsync(http, "expiry-key");

        Assert.Equal(HttpStatusCode.OK, keptAlive);
        Assert.Equal(key, stillActive);
        Assert.Equal(-1125, expired.Code);
        Assert.NotEqual(key, fresh);
    }

    [Fact]
    public async Task Delete_of_the_listen_key_is_a_refused_write_attempt_and_the_key_survives()
    {
        var account = fixture.NewAccount();
        var key = await ListenKeys.PostAsync(Http, account.ApiKey);

        var response = await ListenKeys.SendAsync(Http, HttpMethod.Delete, account.ApiKey, $"listenKey={key}");

        Assert.Equal(-2015, (await Signed.ErrorAsync(response, HttpStatusCode.Forbidden)).Code);
        var attempt = Assert.Single(Exchange.WriteAttempts, r => r.ApiKey == account.ApiKey);
        Assert.Equal(("DELETE", "/fapi/v1/listenKey"), (attempt.Method, attempt.Path));
        Assert.Equal(key, Exchange.ActiveListenKey(account.ApiKey));
    }
}
