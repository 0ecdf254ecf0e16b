namespace Grinder.FakeBinance;

/// <summary>One valid fill row of the fake exchange, in its own model (never the client's types).</summary>
/// <remarks>Field meanings follow Binance USD-M "Account Trade List": <c>buyer</c> is true for the BUY side,
/// <c>maker</c> tells the liquidity role, a negative <c>commission</c> is a maker rebate.</remarks>
public sealed record FakeTrade(
    string Symbol,
    long Id,
    long OrderId,
    string Side,
    decimal Price,
    decimal Qty,
    decimal QuoteQty,
    decimal RealizedPnl,
    decimal Commission,
    string CommissionAsset,
    long TimeMs,
    bool Buyer,
    bool Maker,
    string PositionSide);

/// <summary>What an injected fault does to a matching <c>GET /fapi/v1/userTrades</c> request.</summary>
public enum FakeFaultKind
{
    /// <summary>Answer <see cref="FakeFault.StatusCode"/> with a Binance error body.</summary>
    Status,

    /// <summary>Wait <see cref="FakeFault.Delay"/> (default 30 s), then answer normally: a client timeout fires first.</summary>
    Delay,

    /// <summary>An HTML error page (as a proxy or CDN sends it) with <see cref="FakeFault.StatusCode"/>.</summary>
    HtmlErrorPage,

    /// <summary>HTTP 200 with the real page cut off in the middle.</summary>
    TruncatedJson,

    /// <summary>HTTP 200 with a JSON object wrapping the rows instead of an array.</summary>
    NonArrayJson,

    /// <summary>HTTP 200 with the real rows, but <c>price</c>/<c>qty</c> as JSON numbers and <c>maker</c> renamed <c>isMaker</c>.</summary>
    SchemaDrift,

    /// <summary>HTTP 200 with a valid page padded with whitespace to <see cref="FakeExchangeOptions.OversizedBodyBytes"/>.</summary>
    OversizedBody,

    /// <summary>HTTP 429, code -1003, <c>Retry-After</c> (default 1 s).</summary>
    RateLimited429,

    /// <summary>HTTP 418 (IP ban), code -1003, <c>Retry-After</c> (default 2 s).</summary>
    Banned418,

    /// <summary>HTTP 503: execution status unknown, retry later.</summary>
    ServiceUnavailable503,
}

/// <summary>A fault applied to the next <paramref name="Times"/> userTrades requests that match <paramref name="Symbol"/> and <paramref name="ApiKey"/> (null matches any).</summary>
public sealed record FakeFault(
    FakeFaultKind Kind,
    int Times = 1,
    string? Symbol = null,
    string? ApiKey = null,
    int StatusCode = 500,
    TimeSpan? Delay = null,
    int? RetryAfterSeconds = null,
    int? BinanceCode = null);

/// <summary>One request the fake received (control API calls under <c>/_fake/</c> are not recorded).</summary>
/// <param name="Time">Server time (real time + skew) when the request arrived.</param>
/// <param name="Query">Raw query string without '?', with the <c>signature</c> value redacted.</param>
/// <param name="ApiKey">The <c>X-MBX-APIKEY</c> header as sent (an identifier, never the secret), or null.</param>
/// <param name="ErrorCode">Binance error code of the answer, if it was an error body.</param>
/// <param name="Fault">The injected fault that shaped the answer, if any.</param>
/// <param name="Aborted">The client went away before the answer was complete (for example a timeout).</param>
public sealed record FakeRequestRecord(
    DateTimeOffset Time,
    string Method,
    string Path,
    string Query,
    string? ApiKey,
    string ClientIp,
    int StatusCode,
    int? ErrorCode,
    FakeFaultKind? Fault,
    bool IsWriteAttempt,
    bool Aborted);
