using Microsoft.Extensions.Logging;

namespace Grinder.FakeBinance;

/// <summary>Settings of one <see cref="FakeExchange"/> instance.</summary>
public sealed class FakeExchangeOptions
{
    /// <summary>Listen address; null means <c>http://127.0.0.1:0</c> (a free port).</summary>
    public string? Url { get; set; }

    /// <summary>REQUEST_WEIGHT limit per IP and minute (Binance USD-M: 2400).</summary>
    public int WeightLimitPerMinute { get; set; } = 2400;

    /// <summary>Requests a client may still send after a 429 in the same window before it is banned with 418.</summary>
    public int BanAfterRequestsWhileLimited { get; set; } = 5;

    /// <summary>How long a 418 ban lasts (Binance: "from 2 minutes to 3 days").</summary>
    public TimeSpan BanDuration { get; set; } = TimeSpan.FromMinutes(2);

    /// <summary>Without startTime/endTime/fromId only trades of this last window are returned (Binance: 7 days).</summary>
    public TimeSpan MaxRecentWindow { get; set; } = TimeSpan.FromDays(7);

    /// <summary>Longest allowed startTime..endTime window (Binance: 7 days).</summary>
    public TimeSpan MaxQueryWindow { get; set; } = TimeSpan.FromDays(7);

    /// <summary>Trades older than this are never returned (Binance: "only support querying trade in the past 6 months").</summary>
    public TimeSpan MaxHistory { get; set; } = TimeSpan.FromDays(180);

    /// <summary>Body size of <see cref="FakeFaultKind.OversizedBody"/>.</summary>
    public int OversizedBodyBytes { get; set; } = 32 * 1024 * 1024;

    /// <summary>How many of the newest requests (and write attempts) the logs keep.</summary>
    public int MaxLoggedRequests { get; set; } = 100_000;

    /// <summary>Symbols <c>exchangeInfo</c> lists and userTrades accepts; symbols of added trades join automatically.</summary>
    public IList<string> Symbols { get; set; } = ["BTCUSDT", "ETHUSDT", "BNBUSDT", "SOLUSDT", "XRPUSDT", "DOGEUSDT"];

    /// <summary>How long a listenKey lives after its last POST or PUT (Binance: 60 minutes).</summary>
    public TimeSpan ListenKeyValidity { get; set; } = TimeSpan.FromMinutes(60);

    /// <summary>Server ping interval on user data stream connections (Binance: every 3 minutes); zero sends none.</summary>
    public TimeSpan StreamPingInterval { get; set; } = TimeSpan.FromMinutes(3);

    /// <summary>A connection whose client has not answered a ping within this time is dropped (Binance: 10 minutes).</summary>
    public TimeSpan StreamPongTimeout { get; set; } = TimeSpan.FromMinutes(10);

    /// <summary>A connection is closed at this age (Binance: 24 hours).</summary>
    public TimeSpan StreamMaxConnectionLifetime { get; set; } = TimeSpan.FromHours(24);

    /// <summary>How often (on <see cref="TimeProvider"/>'s timers) the fake looks for expired keys, connections at the end of their
    /// lifetime and held (reordered) events due.</summary>
    public TimeSpan StreamHousekeepingInterval { get; set; } = TimeSpan.FromMilliseconds(100);

    /// <summary>A reordered event held back waits at most this long for the event that should overtake it.</summary>
    public TimeSpan StreamReorderHoldLimit { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>Faults drawn at random for userTrades requests (all off by default).</summary>
    public FakeRandomFaultOptions RandomFaults { get; set; } = new();

    /// <summary>Real time source; server time is this plus <see cref="FakeExchange.ClockSkew"/>.</summary>
    public TimeProvider TimeProvider { get; set; } = TimeProvider.System;

    /// <summary>Where the fake logs (startup, write attempts, bans); null logs nowhere.</summary>
    public ILoggerFactory? LoggerFactory { get; set; }
}

/// <summary>Per-request probabilities of random faults on userTrades, drawn from a seeded generator (reproducible).</summary>
public sealed class FakeRandomFaultOptions
{
    /// <summary>Seed of the fault draws.</summary>
    public int Seed { get; set; } = 1;

    /// <summary>Probability of a 500, 502 or 503.</summary>
    public double ServerError { get; set; }

    /// <summary>Probability of a 429 with <c>Retry-After</c> = <see cref="RetryAfterSeconds"/>.</summary>
    public double RateLimited { get; set; }

    /// <summary>Probability of an answer delayed by <see cref="TimeoutDelay"/> (a client timeout).</summary>
    public double Timeout { get; set; }

    /// <summary>Probability of a malformed page (truncated JSON or an HTML error page).</summary>
    public double Malformed { get; set; }

    public TimeSpan TimeoutDelay { get; set; } = TimeSpan.FromSeconds(30);

    public int RetryAfterSeconds { get; set; } = 1;

    /// <summary>True when any probability is positive.</summary>
    public bool Enabled => ServerError > 0 || RateLimited > 0 || Timeout > 0 || Malformed > 0;

    /// <summary>Null when valid, else a message naming the bad setting under <paramref name="prefix"/>.</summary>
    public string? Validate(string prefix)
    {
        foreach (var (name, p) in new[] { ("ServerError", ServerError), ("RateLimited", RateLimited), ("Timeout", Timeout), ("Malformed", Malformed) })
        {
            if (double.IsNaN(p) || p < 0 || p > 1)
            {
                return $"{prefix}:{name} must be a probability between 0 and 1 (got {p}).";
            }
        }

        if (ServerError + RateLimited + Timeout + Malformed > 1)
        {
            return $"{prefix}: the fault probabilities add up to more than 1.";
        }

        if (TimeoutDelay <= TimeSpan.Zero)
        {
            return $"{prefix}:TimeoutDelay must be positive.";
        }

        return RetryAfterSeconds < 1 ? $"{prefix}:RetryAfterSeconds must be at least 1." : null;
    }
}
