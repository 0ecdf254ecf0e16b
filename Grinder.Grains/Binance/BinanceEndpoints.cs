namespace Grinder.Grains.Binance;

/// <summary>
/// The only Binance paths this service may call, all read-only GETs. Anything else is refused by
/// <see cref="ReadOnlyGuardHandler"/> before it reaches the network (runbook safety invariants 2 and 3: zero write ops).
/// </summary>
public static class BinanceEndpoints
{
    /// <summary>Account Trade List (USER_DATA), weight 5.</summary>
    public const string UserTrades = "/fapi/v1/userTrades";

    /// <summary>Check Server Time, weight 1.</summary>
    public const string Time = "/fapi/v1/time";

    /// <summary>Exchange Information (symbols, rate limits), weight 1.</summary>
    public const string ExchangeInfo = "/fapi/v1/exchangeInfo";

    /// <summary>Request weights from the Binance USD-M endpoint reference.</summary>
    public const int UserTradesWeight = 5;

    public const int TimeWeight = 1;

    public const int ExchangeInfoWeight = 1;

    /// <summary>Every path the HTTP layer lets through.</summary>
    public static readonly IReadOnlySet<string> AllowedPaths = new HashSet<string>(StringComparer.Ordinal) { UserTrades, Time, ExchangeInfo };
}
