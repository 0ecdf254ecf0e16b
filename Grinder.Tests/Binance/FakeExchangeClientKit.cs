using System.Collections.Concurrent;
using Grinder.FakeBinance;
using Grinder.Grains.Binance;
using Grinder.Tests.FakeBinance;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Grinder.Tests.Binance;

/// <summary>The client's HTTP tests share the fake exchange fixture of the fake's own tests (one Kestrel over loopback).</summary>
public static class FakeExchangeFixtureExtensions
{
    /// <summary>A fresh account on the shared exchange, as the client sees it.</summary>
    public static BinanceCredentials NewCredentials(this FakeExchangeFixture fixture)
    {
        var account = fixture.NewAccount();
        return new BinanceCredentials(account.ApiKey, account.ApiSecret);
    }
}

/// <summary>The production DI wiring (<see cref="BinanceServiceCollectionExtensions.AddGrinderBinanceClient"/>) pointed at the fake, with captured logs.</summary>
public sealed class ClientHarness : IDisposable
{
    private readonly ServiceProvider _provider;

    /// <param name="time">The client's clock (the governor's minutes, the server clock); the system clock when null.</param>
    public ClientHarness(Uri baseUrl, Dictionary<string, string?>? settings = null, TimeProvider? time = null)
    {
        var values = new Dictionary<string, string?>
        {
            ["Grinder:Binance:BaseUrl"] = baseUrl.ToString(),
            ["Grinder:Binance:RequestTimeout"] = "00:00:05",
            ["Grinder:Binance:DefaultRetryAfter"] = "00:00:01",
        };
        foreach (var (key, value) in settings ?? [])
        {
            values["Grinder:Binance:" + key] = value;
        }

        var services = new ServiceCollection();
        services.AddSingleton<IConfiguration>(new ConfigurationBuilder().AddInMemoryCollection(values).Build());
        services.AddLogging(logging => logging.SetMinimumLevel(LogLevel.Trace).AddProvider(Logs));
        if (time is not null)
        {
            services.AddSingleton(time);
        }

        services.AddGrinderBinanceClient();
        _provider = services.BuildServiceProvider(new ServiceProviderOptions { ValidateOnBuild = true, ValidateScopes = true });
    }

    public CapturingLoggerProvider Logs { get; } = new();

    public IUserTradesFetcher Fetcher => _provider.GetRequiredService<IUserTradesFetcher>();

    public BinanceWeightGovernor Governor => _provider.GetRequiredService<BinanceWeightGovernor>();

    public BinanceServerClock Clock => _provider.GetRequiredService<BinanceServerClock>();

    public IServiceProvider Services => _provider;

    public Task<FetchResult> FetchAsync(BinanceCredentials credentials, string symbol, FetchPosition position, int maxPages = 10) =>
        Fetcher.FetchAsync(credentials, new FetchRequest(symbol, position, maxPages), CancellationToken.None).WaitAsync(TimeSpan.FromSeconds(60));

    /// <summary>Nothing secret reached the log, and the exchange never saw a write.</summary>
    public void AssertCleanRun(FakeExchange exchange, params BinanceCredentials[] accounts)
    {
        var text = string.Join("\n", Logs.Entries.Select(e => e.Message));
        foreach (var account in accounts)
        {
            Assert.DoesNotContain(account.ApiSecret, text);
            Assert.DoesNotContain(account.ApiKey, text);
        }

        // Neither the signed query nor anything shaped like an HMAC-SHA256 signature.
        Assert.DoesNotContain("signature=", text, StringComparison.OrdinalIgnoreCase);
        Assert.DoesNotContain("timestamp=", text);
        Assert.DoesNotMatch("[0-9a-fA-F]{64}", text);
        Assert.Empty(exchange.WriteAttempts);
    }

    public void Dispose() => _provider.Dispose();
}

public static class FakeExchangeLogExtensions
{
    /// <summary>
    /// The account's recorded userTrades requests once there are at least <paramref name="count"/>: the fake records a
    /// request after its answer is written, so the client can be done a moment before the record exists.
    /// </summary>
    public static async Task<IReadOnlyList<FakeRequestRecord>> UserTradesRequestsAsync(this FakeExchange exchange, BinanceCredentials account, int count)
    {
        bool Mine(FakeRequestRecord r) => r.ApiKey == account.ApiKey && r.Path == BinanceEndpoints.UserTrades;
        await exchange.WaitForRequestAsync(_ => exchange.Requests.Count(Mine) >= count, TimeSpan.FromSeconds(10));
        return [.. exchange.Requests.Where(Mine)];
    }
}

public sealed record LogEntry(string Category, LogLevel Level, EventId EventId, string Message);

/// <summary>Keeps every log line a test produced.</summary>
public sealed class CapturingLoggerProvider : ILoggerProvider
{
    private readonly ConcurrentQueue<LogEntry> _entries = new();

    public IReadOnlyList<LogEntry> Entries => [.. _entries];

    public IReadOnlyList<LogEntry> Named(string eventName) => [.. _entries.Where(e => e.EventId.Name == eventName)];

    public ILogger CreateLogger(string categoryName) => new Logger(categoryName, _entries);

    public void Dispose()
    {
    }

    private sealed class Logger(string category, ConcurrentQueue<LogEntry> entries) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state)
            where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => true;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter) =>
            entries.Enqueue(new LogEntry(category, logLevel, eventId, formatter(state, exception) + (exception is null ? string.Empty : " " + exception)));
    }
}
