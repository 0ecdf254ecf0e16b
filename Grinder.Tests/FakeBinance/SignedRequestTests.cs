using System.Net;
using System.Net.Http.Json;
using Grinder.FakeBinance;
using Microsoft.Extensions.Time.Testing;

namespace Grinder.Tests.FakeBinance;

/// <summary>SIGNED endpoint security of userTrades: API key, HMAC-SHA256 signature, timestamp and recvWindow.</summary>
[Collection(FakeBinanceCollection.Name)]
public sealed class SignedRequestTests(FakeExchangeFixture fixture)
{
    private FakeExchange Exchange => fixture.Exchange;

    private HttpClient Http => fixture.Http;

    [Fact]
    public async Task A_correctly_signed_request_returns_the_accounts_rows()
    {
        var account = fixture.NewAccount();
        var trades = Exchange.GenerateTrades(account.ApiKey, "BTCUSDT", 3, seed: 1);

        var rows = await Signed.RowsAsync(await Signed.UserTradesAsync(Http, account, "symbol=BTCUSDT", Signed.NowMs(Exchange)));

        Assert.Equal(trades.Select(t => t.Id), Signed.Ids(rows));
    }

    [Fact]
    public async Task A_query_changed_after_signing_is_refused_with_minus_1022()
    {
        var account = fixture.NewAccount();
        var signedPart = $"symbol=BTCUSDT&limit=5&timestamp={Signed.NowMs(Exchange)}";
        var signature = Signed.Sign(account.ApiSecret, signedPart);

        var response = await Signed.GetAsync(Http, account.ApiKey, "fapi/v1/userTrades?" + signedPart.Replace("limit=5", "limit=6") + "&signature=" + signature);

        var error = await Signed.ErrorAsync(response, HttpStatusCode.BadRequest);
        Assert.Equal(-1022, error.Code);
        Assert.Equal("Signature for this request is not valid.", error.Msg);
    }

    [Fact]
    public async Task A_signature_made_with_another_secret_is_refused_with_minus_1022()
    {
        var account = fixture.NewAccount();

        var response = await Signed.UserTradesAsync(Http, account, "symbol=BTCUSDT", Signed.NowMs(Exchange), secret: "not-the-secret");

        Assert.Equal(-1022, (await Signed.ErrorAsync(response, HttpStatusCode.BadRequest)).Code);
    }

    [Fact]
    public async Task The_signature_must_be_the_last_parameter()
    {
        var account = fixture.NewAccount();
        var signedPart = $"symbol=BTCUSDT&timestamp={Signed.NowMs(Exchange)}";

        var response = await Signed.GetAsync(Http, account.ApiKey, $"fapi/v1/userTrades?signature={Signed.Sign(account.ApiSecret, signedPart)}&{signedPart}");

        Assert.Equal(-1022, (await Signed.ErrorAsync(response, HttpStatusCode.BadRequest)).Code);
    }

    [Fact]
    public async Task Upper_case_hex_is_accepted_because_Binance_signatures_are_case_insensitive()
    {
        var account = fixture.NewAccount();
        var signedPart = $"symbol=BTCUSDT&timestamp={Signed.NowMs(Exchange)}";

        var response = await Signed.GetAsync(Http, account.ApiKey, $"fapi/v1/userTrades?{signedPart}&signature={Signed.Sign(account.ApiSecret, signedPart).ToUpperInvariant()}");

        await Signed.RowsAsync(response);
    }

    [Theory]
    [InlineData(null)]
    [InlineData("unknown-key")]
    public async Task A_missing_or_unknown_api_key_is_refused_with_401_minus_2015(string? apiKey)
    {
        var account = fixture.NewAccount();
        var signedPart = $"symbol=BTCUSDT&timestamp={Signed.NowMs(Exchange)}";

        var response = await Signed.GetAsync(Http, apiKey, $"fapi/v1/userTrades?{signedPart}&signature={Signed.Sign(account.ApiSecret, signedPart)}");

        var error = await Signed.ErrorAsync(response, HttpStatusCode.Unauthorized);
        Assert.Equal(new BinanceError(-2015, "Invalid API-key, IP, or permissions for action."), error);
    }

    [Fact]
    public async Task A_missing_timestamp_is_a_mandatory_parameter_error()
    {
        var account = fixture.NewAccount();

        var response = await Signed.GetAsync(Http, account.ApiKey, $"fapi/v1/userTrades?symbol=BTCUSDT&signature={Signed.Sign(account.ApiSecret, "symbol=BTCUSDT")}");

        var error = await Signed.ErrorAsync(response, HttpStatusCode.BadRequest);
        Assert.Equal(-1102, error.Code);
        Assert.Contains("'timestamp'", error.Msg, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_timestamp_older_than_the_default_recvWindow_is_refused_but_a_wider_window_accepts_it()
    {
        var account = fixture.NewAccount();
        var sixSecondsAgo = Signed.NowMs(Exchange) - 6_000;

        var refused = await Signed.ErrorAsync(await Signed.UserTradesAsync(Http, account, "symbol=BTCUSDT", sixSecondsAgo), HttpStatusCode.BadRequest);
        var accepted = await Signed.UserTradesAsync(Http, account, "symbol=BTCUSDT&recvWindow=20000", sixSecondsAgo);

        Assert.Equal(new BinanceError(-1021, "Timestamp for this request is outside of the recvWindow."), refused);
        await Signed.RowsAsync(accepted);
    }

    [Fact]
    public async Task A_timestamp_more_than_one_second_ahead_of_server_time_is_refused()
    {
        var account = fixture.NewAccount();

        var response = await Signed.UserTradesAsync(Http, account, "symbol=BTCUSDT", Signed.NowMs(Exchange) + 5_000);

        var error = await Signed.ErrorAsync(response, HttpStatusCode.BadRequest);
        Assert.Equal(-1021, error.Code);
        Assert.Contains("ahead of the server's time", error.Msg, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_recvWindow_above_60000_is_refused()
    {
        var account = fixture.NewAccount();

        var response = await Signed.UserTradesAsync(Http, account, "symbol=BTCUSDT&recvWindow=60001", Signed.NowMs(Exchange));

        Assert.Equal(-1131, (await Signed.ErrorAsync(response, HttpStatusCode.BadRequest)).Code);
    }

    [Fact]
    public async Task A_client_whose_clock_lags_the_skewed_server_is_refused_until_it_uses_server_time()
    {
        var clock = new FakeTimeProvider(DateTimeOffset.Parse("2026-03-01T10:00:00Z", System.Globalization.CultureInfo.InvariantCulture));
        await using var exchange = await FakeExchange.StartAsync(new FakeExchangeOptions { TimeProvider = clock });
        using var http = new HttpClient { BaseAddress = exchange.BaseUrl };
        var account = new TestAccount("skew-key", "skew-secret");
        exchange.AddAccount(account.ApiKey, account.ApiSecret);
        exchange.ClockSkew = TimeSpan.FromSeconds(10);

        var clientClockMs = clock.GetUtcNow().ToUnixTimeMilliseconds();
        var refused = await Signed.UserTradesAsync(http, account, "symbol=BTCUSDT", clientClockMs);
        var serverTime = await http.GetFromJsonAsync<ServerTime>("fapi/v1/time");
        var accepted = await Signed.UserTradesAsync(http, account, "symbol=BTCUSDT", serverTime!.ServerTimeMs);

        Assert.Equal(-1021, (await Signed.ErrorAsync(refused, HttpStatusCode.BadRequest)).Code);
        Assert.Equal(clientClockMs + 10_000, serverTime.ServerTimeMs);
        await Signed.RowsAsync(accepted);
    }

    [Fact]
    public async Task The_request_log_keeps_the_query_but_never_the_signature()
    {
        var account = fixture.NewAccount();
        var timestamp = Signed.NowMs(Exchange);
        var signature = Signed.Sign(account.ApiSecret, $"symbol=BTCUSDT&timestamp={timestamp}");

        await Signed.UserTradesAsync(Http, account, "symbol=BTCUSDT", timestamp);

        var logged = Exchange.Requests.Last(r => r.ApiKey == account.ApiKey);
        Assert.Equal($"symbol=BTCUSDT&timestamp={timestamp}&signature=REDACTED", logged.Query);
        Assert.DoesNotContain(signature, logged.ToString(), StringComparison.Ordinal);
        Assert.DoesNotContain(account.ApiSecret, logged.ToString(), StringComparison.Ordinal);
    }

    private sealed record ServerTime([property: System.Text.Json.Serialization.JsonPropertyName("serverTime")] long ServerTimeMs);
}
