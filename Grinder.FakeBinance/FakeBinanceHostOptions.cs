using System.Text.RegularExpressions;
using Microsoft.Extensions.Options;

namespace Grinder.FakeBinance;

/// <summary>Settings of the fake exchange executable (section <c>FakeBinance</c>; also <see cref="FakeExchange.StartDemoAsync"/>).</summary>
public sealed partial class FakeBinanceHostOptions
{
    public const string SectionName = "FakeBinance";

    /// <summary>Listen address (<c>--urls</c>); port 0 picks a free port.</summary>
    public string Url { get; set; } = "http://127.0.0.1:9091";

    /// <summary>Accounts as <c>KEY:SECRET</c> (<c>--account</c>, repeatable).</summary>
    public List<string> Accounts { get; set; } = [];

    /// <summary>Comma-separated symbols fills are generated for (<c>--symbols</c>).</summary>
    public string Symbols { get; set; } = "BTCUSDT";

    /// <summary>Generator interval (<c>--generate-every</c>); zero turns the generator off.</summary>
    public TimeSpan GenerateEvery { get; set; } = TimeSpan.FromSeconds(2);

    /// <summary>Trade ids per symbol and tick (<c>--generate-count</c>).</summary>
    public int GenerateCount { get; set; } = 3;

    /// <summary>Seed of generated fills (<c>--seed</c>).</summary>
    public int Seed { get; set; } = 1;

    /// <summary>Share of generated ids that are self-trades, i.e. two rows (<c>--self-trade-fraction</c>).</summary>
    public double SelfTradePairFraction { get; set; }

    /// <summary>Trade ids per symbol generated at start as history (<c>--initial-trades</c>).</summary>
    public int InitialTrades { get; set; }

    /// <summary>How far back the initial history reaches (<c>--initial-history</c>).</summary>
    public TimeSpan InitialHistory { get; set; } = TimeSpan.FromDays(1);

    /// <summary>REQUEST_WEIGHT per IP and minute (<c>--weight-limit</c>).</summary>
    public int WeightLimitPerMinute { get; set; } = 2400;

    /// <summary>listenKey validity after its last POST/PUT (Binance: 60 minutes); shorter for expiry drills.</summary>
    public TimeSpan ListenKeyValidity { get; set; } = TimeSpan.FromMinutes(60);

    /// <summary>Server ping interval of stream connections (Binance: 3 minutes).</summary>
    public TimeSpan StreamPingInterval { get; set; } = TimeSpan.FromMinutes(3);

    /// <summary>Maximum age of a stream connection (Binance: 24 hours); shorter for renewal drills.</summary>
    public TimeSpan StreamMaxConnectionLifetime { get; set; } = TimeSpan.FromHours(24);

    /// <summary>Random faults on userTrades (<c>FakeBinance:RandomFaults:*</c>).</summary>
    public FakeRandomFaultOptions RandomFaults { get; set; } = new();

    internal IReadOnlyList<string> SymbolList =>
        Symbols.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);

    internal IReadOnlyList<(string ApiKey, string ApiSecret)> AccountList =>
        [.. Accounts.Select(a => a.Split(':', 2)).Select(p => (p[0], p.Length > 1 ? p[1] : string.Empty))];

    [GeneratedRegex("^[A-Z0-9]{2,30}$")]
    internal static partial Regex SymbolPattern();
}

/// <summary>Validates <see cref="FakeBinanceHostOptions"/> at start; each failure names the setting.</summary>
public sealed class FakeBinanceHostOptionsValidator : IValidateOptions<FakeBinanceHostOptions>
{
    public ValidateOptionsResult Validate(string? name, FakeBinanceHostOptions options) =>
        Check(options) is { } problem ? ValidateOptionsResult.Fail(problem) : ValidateOptionsResult.Success;

    /// <summary>Null when valid, else one line naming the bad setting.</summary>
    public static string? Check(FakeBinanceHostOptions options)
    {
        const string S = FakeBinanceHostOptions.SectionName;
        // Kestrel's wildcard hosts ("http://+:9091", "http://*:9091") listen on every interface, e.g. in a container.
        var checkable = options.Url.Replace("://+:", "://0.0.0.0:", StringComparison.Ordinal).Replace("://*:", "://0.0.0.0:", StringComparison.Ordinal);
        if (!Uri.TryCreate(checkable, UriKind.Absolute, out var url) || url.Scheme != Uri.UriSchemeHttp)
        {
            return $"{S}:Url (--urls) must be an absolute http:// URL, got '{options.Url}'.";
        }

        for (var i = 0; i < options.Accounts.Count; i++)
        {
            var parts = options.Accounts[i].Split(':', 2);
            if (parts.Length != 2 || parts[0].Trim().Length == 0 || parts[1].Trim().Length == 0)
            {
                // The value holds a secret: never echo it.
                return $"{S}:Accounts:{i} (--account) must have the form KEY:SECRET.";
            }
        }

        if (options.AccountList.Select(a => a.ApiKey).Distinct(StringComparer.Ordinal).Count() != options.Accounts.Count)
        {
            return $"{S}:Accounts (--account) lists the same API key twice.";
        }

        var symbols = options.SymbolList;
        if (symbols.Count == 0 || symbols.Any(s => !FakeBinanceHostOptions.SymbolPattern().IsMatch(s)))
        {
            return $"{S}:Symbols (--symbols) must be a comma-separated list of symbols like BTCUSDT, got '{options.Symbols}'.";
        }

        return options switch
        {
            { GenerateEvery.Ticks: < 0 } => $"{S}:GenerateEvery (--generate-every) must not be negative (zero turns the generator off).",
            { GenerateCount: < 1 } => $"{S}:GenerateCount (--generate-count) must be at least 1.",
            { SelfTradePairFraction: < 0 or > 1 } or { SelfTradePairFraction: double.NaN } => $"{S}:SelfTradePairFraction (--self-trade-fraction) must be between 0 and 1.",
            { InitialTrades: < 0 } => $"{S}:InitialTrades (--initial-trades) must not be negative.",
            { InitialHistory.Ticks: <= 0 } => $"{S}:InitialHistory (--initial-history) must be positive.",
            { WeightLimitPerMinute: < 1 } => $"{S}:WeightLimitPerMinute (--weight-limit) must be at least 1.",
            { ListenKeyValidity.Ticks: <= 0 } => $"{S}:ListenKeyValidity must be positive.",
            { StreamPingInterval.Ticks: < 0 } => $"{S}:StreamPingInterval must not be negative (zero sends no pings).",
            { StreamMaxConnectionLifetime.Ticks: <= 0 } => $"{S}:StreamMaxConnectionLifetime must be positive.",
            _ => options.RandomFaults.Validate($"{S}:RandomFaults"),
        };
    }
}
