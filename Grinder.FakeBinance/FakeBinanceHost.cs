using Microsoft.Extensions.Options;

namespace Grinder.FakeBinance;

/// <summary>Builds the fake exchange executable's host: configuration (command line, environment, appsettings) bound to
/// validated <see cref="FakeBinanceHostOptions"/>, and a hosted <see cref="FakeExchangeService"/>.</summary>
public static class FakeBinanceHost
{
    /// <summary>Command-line switches and the settings they set.</summary>
    public static IReadOnlyDictionary<string, string> SwitchMappings { get; } = new Dictionary<string, string>(StringComparer.Ordinal)
    {
        ["--urls"] = "FakeBinance:Url",
        ["--symbols"] = "FakeBinance:Symbols",
        ["--generate-every"] = "FakeBinance:GenerateEvery",
        ["--generate-count"] = "FakeBinance:GenerateCount",
        ["--seed"] = "FakeBinance:Seed",
        ["--self-trade-fraction"] = "FakeBinance:SelfTradePairFraction",
        ["--initial-trades"] = "FakeBinance:InitialTrades",
        ["--initial-history"] = "FakeBinance:InitialHistory",
        ["--weight-limit"] = "FakeBinance:WeightLimitPerMinute",
    };

    public static HostApplicationBuilder CreateBuilder(string[] args)
    {
        var expanded = ExpandAccounts(args);
        var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings
        {
            Args = expanded,
            ContentRootPath = AppContext.BaseDirectory,
        });
        builder.Configuration.AddCommandLine(expanded, new Dictionary<string, string>(SwitchMappings));
        builder.Services.AddSingleton<IValidateOptions<FakeBinanceHostOptions>, FakeBinanceHostOptionsValidator>();
        builder.Services.AddOptions<FakeBinanceHostOptions>()
            .BindConfiguration(FakeBinanceHostOptions.SectionName, o => o.ErrorOnUnknownConfiguration = true)
            .ValidateOnStart();
        builder.Services.AddSingleton<FakeExchangeService>();
        builder.Services.AddHostedService(sp => sp.GetRequiredService<FakeExchangeService>());
        return builder;
    }

    /// <summary>Turns each repeated <c>--account KEY:SECRET</c> into an indexed setting, because a plain switch keeps only the last value.</summary>
    internal static string[] ExpandAccounts(string[] args)
    {
        var result = new List<string>(args.Length);
        var index = 0;
        for (var i = 0; i < args.Length; i++)
        {
            var arg = args[i];
            if (arg == "--account" && i + 1 < args.Length)
            {
                result.Add($"--{FakeBinanceHostOptions.SectionName}:Accounts:{index++}={args[++i]}");
            }
            else if (arg.StartsWith("--account=", StringComparison.Ordinal))
            {
                result.Add($"--{FakeBinanceHostOptions.SectionName}:Accounts:{index++}={arg["--account=".Length..]}");
            }
            else
            {
                result.Add(arg);
            }
        }

        return [.. result];
    }
}

/// <summary>Hosts one <see cref="FakeExchange"/> started with <see cref="FakeExchange.StartDemoAsync"/> for the host's lifetime.</summary>
public sealed class FakeExchangeService(IOptions<FakeBinanceHostOptions> options, ILoggerFactory loggerFactory) : IHostedService
{
    /// <summary>The running exchange; null before start and after stop.</summary>
    public FakeExchange? Exchange { get; private set; }

    public async Task StartAsync(CancellationToken cancellationToken) =>
        Exchange = await FakeExchange.StartDemoAsync(options.Value, loggerFactory, cancellationToken).ConfigureAwait(false);

    public async Task StopAsync(CancellationToken cancellationToken)
    {
        if (Exchange is { } exchange)
        {
            Exchange = null;
            await exchange.DisposeAsync().ConfigureAwait(false);
        }
    }
}
