using Microsoft.Extensions.Options;

namespace Grinder.Grains.Binance.Stream;

/// <summary>Tuning of one user data stream connection (section <c>Grinder:Stream:Connection</c>); the URL is
/// <see cref="BinanceOptions.StreamUrl"/>.</summary>
public sealed class UserDataStreamOptions
{
    public const string SectionName = "Grinder:Stream:Connection";

    /// <summary>PUT of the listenKey; Binance: valid 60 minutes, keep alive about every 30 minutes.</summary>
    public TimeSpan ListenKeyKeepAlive { get; set; } = TimeSpan.FromMinutes(30);

    /// <summary>After a failed PUT (not -1125) the next try comes this much sooner than the regular keep-alive.</summary>
    public TimeSpan ListenKeyRetry { get; set; } = TimeSpan.FromMinutes(1);

    /// <summary>Age at which a connection is replaced (the new one first, then the old one closes); Binance drops connections at
    /// 24 hours.</summary>
    public TimeSpan Renewal { get; set; } = TimeSpan.FromHours(23);

    /// <summary>A connection silent for this long is dead. Binance user data streams have no application heartbeat (a quiet
    /// account sends nothing for hours), so liveness is the WebSocket layer: after half of this without any incoming byte
    /// the client pings, and gives up when the pong is later than the other half. The server pings every 3 minutes, and any
    /// incoming byte postpones our ping, so with the default (half = 5 min) a healthy Binance connection never depends on
    /// Binance answering our pings; keep half of it above the server's ping interval.</summary>
    public TimeSpan SilenceLimit { get; set; } = TimeSpan.FromMinutes(10);

    /// <summary>WebSocket handshake deadline.</summary>
    public TimeSpan ConnectTimeout { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>First delay after a failed attempt; it doubles per further failure up to <see cref="ReconnectMaxDelay"/>, with
    /// jitter (a random half of it) so many accounts do not reconnect in step.</summary>
    public TimeSpan ReconnectBaseDelay { get; set; } = TimeSpan.FromSeconds(1);

    public TimeSpan ReconnectMaxDelay { get; set; } = TimeSpan.FromMinutes(2);

    /// <summary>A connection that ends sooner than this after opening counts as a failed attempt (backoff grows); one that
    /// lived longer is reconnected at once.</summary>
    public TimeSpan StableAfter { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>Largest accepted message; Binance events are a few hundred bytes.</summary>
    public int MaxMessageBytes { get; set; } = 64 * 1024;
}

/// <summary>One line per bad setting, naming it.</summary>
public sealed class UserDataStreamOptionsValidator : IValidateOptions<UserDataStreamOptions>
{
    public ValidateOptionsResult Validate(string? name, UserDataStreamOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        var p = UserDataStreamOptions.SectionName + ":";
        var failures = new List<string>();
        foreach (var (setting, value) in new[]
        {
            ("ListenKeyKeepAlive", options.ListenKeyKeepAlive), ("ListenKeyRetry", options.ListenKeyRetry), ("Renewal", options.Renewal),
            ("SilenceLimit", options.SilenceLimit), ("ConnectTimeout", options.ConnectTimeout), ("ReconnectBaseDelay", options.ReconnectBaseDelay),
            ("ReconnectMaxDelay", options.ReconnectMaxDelay), ("StableAfter", options.StableAfter),
        })
        {
            if (value <= TimeSpan.Zero)
            {
                failures.Add($"{p}{setting} must be positive.");
            }
        }

        // A key lives 60 minutes after its last keep-alive (Binance docs): a slower keep-alive lets it expire.
        if (options.ListenKeyKeepAlive >= TimeSpan.FromMinutes(60))
        {
            failures.Add($"{p}ListenKeyKeepAlive must be shorter than 01:00:00 (a listenKey expires 60 minutes after its last keep-alive).");
        }

        if (options.Renewal >= TimeSpan.FromHours(24))
        {
            failures.Add($"{p}Renewal must be shorter than 1.00:00:00 (Binance closes connections at 24 hours).");
        }

        if (options.ReconnectMaxDelay < options.ReconnectBaseDelay)
        {
            failures.Add($"{p}ReconnectMaxDelay must not be shorter than ReconnectBaseDelay.");
        }

        if (options.MaxMessageBytes < 1024)
        {
            failures.Add($"{p}MaxMessageBytes must be at least 1024.");
        }

        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }
}
