using System.Globalization;
using System.Net;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Grinder.FakeBinance;

namespace Grinder.Tests.FakeBinance;

[CollectionDefinition(Name)]
public sealed class FakeBinanceCollection : ICollectionFixture<FakeExchangeFixture>
{
    public const string Name = "FakeBinance";
}

/// <summary>One exchange shared by the collection's tests; each test uses its own account, so rows never mix.</summary>
public sealed class FakeExchangeFixture : IAsyncLifetime
{
    private int _accounts;

    public FakeExchange Exchange { get; private set; } = null!;

    public HttpClient Http { get; private set; } = null!;

    public async Task InitializeAsync()
    {
        // A high limit: the shared instance must not rate-limit tests that are about something else.
        Exchange = await FakeExchange.StartAsync(new FakeExchangeOptions { WeightLimitPerMinute = 1_000_000 });
        Http = new HttpClient { BaseAddress = Exchange.BaseUrl };
    }

    public async Task DisposeAsync()
    {
        Http.Dispose();
        await Exchange.DisposeAsync();
    }

    /// <summary>A fresh account on the shared exchange.</summary>
    public TestAccount NewAccount()
    {
        var n = Interlocked.Increment(ref _accounts);
        var account = new TestAccount($"key-{n}-{Guid.NewGuid():N}", $"secret-{n}-{Guid.NewGuid():N}");
        Exchange.AddAccount(account.ApiKey, account.ApiSecret);
        return account;
    }
}

public sealed record TestAccount(string ApiKey, string ApiSecret);

/// <summary>A Binance error body.</summary>
public sealed record BinanceError(int Code, string Msg);

/// <summary>Builds signed requests the way Binance documents them. The test's own signer: independent of the fake and of the client.</summary>
public static class Signed
{
    public static long NowMs(FakeExchange exchange) => exchange.ServerTime.ToUnixTimeMilliseconds();

    public static string Sign(string secret, string totalParams) =>
        Convert.ToHexStringLower(HMACSHA256.HashData(Encoding.UTF8.GetBytes(secret), Encoding.UTF8.GetBytes(totalParams)));

    /// <summary>GET userTrades with <paramref name="query"/> plus timestamp, signed with the account's secret.</summary>
    public static Task<HttpResponseMessage> UserTradesAsync(HttpClient http, TestAccount account, string query, long timestampMs, string? secret = null)
    {
        var totalParams = (query.Length == 0 ? string.Empty : query + "&") + "timestamp=" + timestampMs.ToString(CultureInfo.InvariantCulture);
        return GetAsync(http, account.ApiKey, "fapi/v1/userTrades?" + totalParams + "&signature=" + Sign(secret ?? account.ApiSecret, totalParams));
    }

    public static Task<HttpResponseMessage> GetAsync(HttpClient http, string? apiKey, string relativeUrl, CancellationToken cancellationToken = default)
    {
        var request = new HttpRequestMessage(HttpMethod.Get, relativeUrl);
        if (apiKey is not null)
        {
            request.Headers.Add("X-MBX-APIKEY", apiKey);
        }

        return http.SendAsync(request, cancellationToken);
    }

    public static async Task<JsonElement> RowsAsync(HttpResponseMessage response)
    {
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.OK, $"expected 200, got {(int)response.StatusCode}: {body}");
        var rows = JsonDocument.Parse(body).RootElement;
        Assert.Equal(JsonValueKind.Array, rows.ValueKind);
        return rows;
    }

    public static async Task<BinanceError> ErrorAsync(HttpResponseMessage response, HttpStatusCode status)
    {
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == status, $"expected {(int)status}, got {(int)response.StatusCode}: {body}");
        return JsonSerializer.Deserialize<BinanceError>(body, JsonSerializerOptions.Web)!;
    }

    public static long[] Ids(JsonElement rows) => [.. rows.EnumerateArray().Select(r => r.GetProperty("id").GetInt64())];

    public static int UsedWeight(HttpResponseMessage response) =>
        int.Parse(response.Headers.GetValues("X-MBX-USED-WEIGHT-1M").Single(), CultureInfo.InvariantCulture);
}
