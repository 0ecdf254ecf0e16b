namespace Grinder.Grains.Binance;

/// <summary>
/// The only Binance paths this service may call: read-only GETs, plus POST and PUT of the user data stream's listenKey.
/// Anything else is refused by <see cref="ReadOnlyGuardHandler"/> before it reaches the network (runbook safety invariants 2
/// and 3: zero write ops).
/// </summary>
public static class BinanceEndpoints
{
    /// <summary>Account Trade List (USER_DATA), weight 5.</summary>
    public const string UserTrades = "/fapi/v1/userTrades";

    /// <summary>Check Server Time, weight 1.</summary>
    public const string Time = "/fapi/v1/time";

    /// <summary>Exchange Information (symbols, rate limits), weight 1.</summary>
    public const string ExchangeInfo = "/fapi/v1/exchangeInfo";

    /// <summary>Start (POST) or keep alive (PUT) the account's user data stream (USER_STREAM: API key, no signature), weight 1.
    /// Never DELETE: the key is shared with the customer's own bots and a DELETE would close their stream.</summary>
    public const string ListenKey = "/fapi/v1/listenKey";

    /// <summary>Request weights from the Binance USD-M endpoint reference.</summary>
    public const int UserTradesWeight = 5;

    public const int TimeWeight = 1;

    public const int ExchangeInfoWeight = 1;

    public const int ListenKeyWeight = 1;

    /// <summary>Starts the user data stream, or returns the account's active key and extends it.</summary>
    public static readonly HttpMethod ListenKeyStart = HttpMethod.Post;

    /// <summary>Keeps the listenKey alive for another 60 minutes; -1125 when it no longer exists.</summary>
    public static readonly HttpMethod ListenKeyKeepAlive = HttpMethod.Put;

    /// <summary>The only methods besides GET, and only on <see cref="ListenKey"/>: they touch no order and no position.</summary>
    public static readonly IReadOnlySet<HttpMethod> ListenKeyMethods = new HashSet<HttpMethod> { ListenKeyStart, ListenKeyKeepAlive };

    /// <summary>Every path the HTTP layer lets through with GET.</summary>
    public static readonly IReadOnlySet<string> AllowedPaths = new HashSet<string>(StringComparer.Ordinal) { UserTrades, Time, ExchangeInfo };
}
