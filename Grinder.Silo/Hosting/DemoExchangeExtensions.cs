using Grinder.FakeBinance;
using Grinder.Grains.Logging;
using Grinder.Silo.Configuration;

namespace Grinder.Silo.Hosting;

/// <summary>
/// The one seam between the silo and the fake exchange (docs/architecture.md "Projects"): only the local-mode demo uses it, and only
/// when ingest is on and no real account is configured. Real keys always mean the real exchange.
/// </summary>
public static partial class DemoExchangeExtensions
{
    private const string DemoKey = "grinder-demo-key";
    private const string DemoSecret = "grinder-demo-secret";

    public static WebApplicationBuilder AddGrinderDemoExchange(this WebApplicationBuilder builder)
    {
        var configuration = builder.Configuration;
        var demo = configuration.GetSection(DemoOptions.SectionName).Get<DemoOptions>() ?? new DemoOptions();
        var ingestOn = configuration.GetValue<bool>("Grinder:Ingest:Enabled");
        var hasAccounts = !string.IsNullOrEmpty(configuration["Grinder:ApiKey"])
            || !string.IsNullOrEmpty(configuration["Grinder:ApiSecret"])
            || configuration.GetSection("Grinder:Accounts").GetChildren().Any();
        if (!demo.Enabled || !ingestOn || hasAccounts)
        {
            return builder;
        }

        var exchange = FakeExchange.StartDemoAsync(new FakeBinanceHostOptions
        {
            Url = "http://127.0.0.1:0",
            Accounts = [$"{DemoKey}:{DemoSecret}"],
            Symbols = demo.Symbols,
            GenerateEvery = demo.GenerateEvery,
            GenerateCount = demo.GenerateCount,
            InitialTrades = demo.InitialTrades,
            InitialHistory = TimeSpan.FromHours(6),
            SelfTradePairFraction = 0.05,
        }).GetAwaiter().GetResult();

        configuration.AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["Grinder:Binance:BaseUrl"] = exchange.BaseUrl.ToString(),
            ["Grinder:Accounts:0:Id"] = "demo",
            ["Grinder:Accounts:0:Source"] = "sim",
            ["Grinder:Accounts:0:Symbols"] = demo.Symbols,
            ["Grinder:Accounts:0:ApiKey"] = DemoKey,
            ["Grinder:Accounts:0:ApiSecret"] = DemoSecret,
        });
        builder.Services.AddSingleton(exchange);
        builder.Services.AddHostedService<DemoExchangeAnnouncer>();
        return builder;
    }

    /// <summary>Says at start that fills come from the fake exchange, so nobody mistakes them for real ones.</summary>
    private sealed partial class DemoExchangeAnnouncer(FakeExchange exchange, ILogger<DemoExchangeAnnouncer> logger) : IHostedService
    {
        public Task StartAsync(CancellationToken cancellationToken)
        {
            LogDemo(logger, exchange.BaseUrl.ToString());
            return Task.CompletedTask;
        }

        public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

        [LoggerMessage(EventId = LogEvents.Hosting.DemoExchange, EventName = "DEMO_EXCHANGE", Level = LogLevel.Warning,
            Message = "DEMO MODE: no Binance account configured, ingesting generated fills from the built-in fake exchange at {Url} as account 'demo' (source=\"sim\"). Set BINANCE_API_KEY/BINANCE_API_SECRET for real fills.")]
        private static partial void LogDemo(ILogger logger, string url);
    }
}
