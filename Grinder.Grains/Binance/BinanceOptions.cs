using Microsoft.Extensions.Options;

namespace Grinder.Grains.Binance;

/// <summary>Settings of the read-only Binance USD-M client (configuration section <c>Grinder:Binance</c>).</summary>
public sealed class BinanceOptions
{
    public const string SectionName = "Grinder:Binance";

    /// <summary>Root of the REST API: production, testnet or the fake exchange.</summary>
    public Uri BaseUrl { get; set; } = new("https://fapi.binance.com");

    /// <summary>Root of the USD-M WebSocket endpoints (<c>Grinder__Binance__StreamUrl</c>); the user data stream lives under
    /// <c>/private</c> of it.</summary>
    public Uri StreamUrl { get; set; } = new(DefaultStreamUrl);

    /// <summary>Binance's USD-M WebSocket root.</summary>
    public const string DefaultStreamUrl = "wss://fstream.binance.com";

    /// <summary>
    /// A REST base URL on this machine (the fake exchange, a local proxy) with the stream URL left at Binance's: the stream
    /// is taken from the same host and port (<c>ws://</c> for <c>http://</c>), so a run against a local exchange never
    /// opens a connection to Binance. An explicit <c>StreamUrl</c> always wins.
    /// </summary>
    public static void DeriveLocalStreamUrl(BinanceOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        if (options.BaseUrl is { IsAbsoluteUri: true, IsLoopback: true } local && options.StreamUrl?.OriginalString == DefaultStreamUrl)
        {
            options.StreamUrl = new UriBuilder(local) { Scheme = local.Scheme == Uri.UriSchemeHttps ? "wss" : "ws", Path = "/" }.Uri;
        }
    }

    /// <summary>Sent as <c>recvWindow</c>; Binance rejects a signed request older than this (default 5000 ms, docs recommend ≤ 5000).</summary>
    public TimeSpan RecvWindow { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>Deadline of one HTTP request, headers and body together.</summary>
    public TimeSpan RequestTimeout { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary><c>limit</c> of <c>GET /fapi/v1/userTrades</c>; Binance's maximum is 1000.</summary>
    public int PageLimit { get; set; } = 1000;

    /// <summary>Upper bound on requests of one symbol's poll, so one backlog cannot starve the other symbols and accounts.</summary>
    public int MaxPagesPerPoll { get; set; } = 10;

    /// <summary>The IP's request-weight budget per minute (Binance USD-M: 2400).</summary>
    public int WeightLimitPerMinute { get; set; } = 2400;

    /// <summary>Share of <see cref="WeightLimitPerMinute"/> this silo allows itself, leaving room for other tools on the same IP.</summary>
    public double WeightShare { get; set; } = 0.5;

    /// <summary>Pause after 429/418 when the response carries no <c>Retry-After</c>.</summary>
    public TimeSpan DefaultRetryAfter { get; set; } = TimeSpan.FromSeconds(60);

    /// <summary>Width of one bootstrap time window; Binance allows at most 7 days between startTime and endTime.</summary>
    public TimeSpan BootstrapWindow { get; set; } = TimeSpan.FromDays(7);

    /// <summary>When bootstrap windows reach "now" without a trade, the next scan starts this far back so rows that become visible late are not missed.</summary>
    public TimeSpan BootstrapSafetyOverlap { get; set; } = TimeSpan.FromSeconds(60);

    /// <summary>How often the server-time offset is refreshed even without a -1021 error.</summary>
    public TimeSpan ClockResyncInterval { get; set; } = TimeSpan.FromMinutes(30);

    /// <summary>Largest response body accepted; a 1000-row page is about 350 KB.</summary>
    public int MaxResponseBytes { get; set; } = 4 * 1024 * 1024;

    /// <summary>Binance's maximum <c>limit</c> of userTrades.</summary>
    public const int MaxPageLimit = 1000;

    /// <summary>Binance's maximum startTime..endTime span of userTrades.</summary>
    public static readonly TimeSpan MaxBootstrapWindow = TimeSpan.FromDays(7);
}

/// <summary>Rejects settings that would make the client misbehave, with one line naming the setting.</summary>
public sealed class BinanceOptionsValidator : IValidateOptions<BinanceOptions>
{
    public ValidateOptionsResult Validate(string? name, BinanceOptions options)
    {
        var failures = new List<string>();
        var prefix = BinanceOptions.SectionName + ":";

        if (options.BaseUrl is null || !options.BaseUrl.IsAbsoluteUri
            || (options.BaseUrl.Scheme != Uri.UriSchemeHttps && options.BaseUrl.Scheme != Uri.UriSchemeHttp))
        {
            failures.Add($"{prefix}BaseUrl must be an absolute http(s) URL.");
        }

        if (options.StreamUrl is null || !options.StreamUrl.IsAbsoluteUri
            || (options.StreamUrl.Scheme != Uri.UriSchemeWss && options.StreamUrl.Scheme != Uri.UriSchemeWs))
        {
            failures.Add($"{prefix}StreamUrl must be an absolute ws(s) URL.");
        }

        RequirePositive(options.RecvWindow, "RecvWindow");
        RequirePositive(options.RequestTimeout, "RequestTimeout");
        RequirePositive(options.DefaultRetryAfter, "DefaultRetryAfter");
        RequirePositive(options.BootstrapWindow, "BootstrapWindow");
        RequirePositive(options.ClockResyncInterval, "ClockResyncInterval");

        // Binance docs: recvWindow cannot exceed 60000 ms.
        if (options.RecvWindow > TimeSpan.FromSeconds(60))
        {
            failures.Add($"{prefix}RecvWindow must be at most 00:01:00 (Binance limit).");
        }

        if (options.BootstrapWindow > BinanceOptions.MaxBootstrapWindow)
        {
            failures.Add($"{prefix}BootstrapWindow must be at most 7.00:00:00 (Binance limit of startTime..endTime).");
        }

        if (options.BootstrapSafetyOverlap < TimeSpan.Zero || options.BootstrapSafetyOverlap >= options.BootstrapWindow)
        {
            failures.Add($"{prefix}BootstrapSafetyOverlap must be zero or positive and shorter than BootstrapWindow.");
        }

        if (options.PageLimit is < 1 or > BinanceOptions.MaxPageLimit)
        {
            failures.Add($"{prefix}PageLimit must be between 1 and {BinanceOptions.MaxPageLimit}.");
        }

        if (options.MaxPagesPerPoll < 1)
        {
            failures.Add($"{prefix}MaxPagesPerPoll must be positive.");
        }

        if (options.WeightLimitPerMinute < 1)
        {
            failures.Add($"{prefix}WeightLimitPerMinute must be positive.");
        }

        if (!(options.WeightShare > 0 && options.WeightShare <= 1))
        {
            failures.Add($"{prefix}WeightShare must be in (0, 1].");
        }

        if (options.MaxResponseBytes < 1024)
        {
            failures.Add($"{prefix}MaxResponseBytes must be at least 1024.");
        }

        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);

        void RequirePositive(TimeSpan value, string setting)
        {
            if (value <= TimeSpan.Zero)
            {
                failures.Add($"{prefix}{setting} must be positive.");
            }
        }
    }
}
