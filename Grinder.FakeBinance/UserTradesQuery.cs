namespace Grinder.FakeBinance;

/// <summary>Parameter rules of <c>GET /fapi/v1/userTrades</c> (Binance USD-M "Account Trade List").</summary>
internal static class UserTradesQuery
{
    public const int DefaultLimit = 500;

    public const int MaxLimit = 1000;

    private static readonly HashSet<string> Known = new(StringComparer.Ordinal)
    {
        "symbol", "orderId", "startTime", "endTime", "fromId", "limit", "recvWindow", "timestamp",
    };

    /// <summary>Validates the parameters and says which rows to return.</summary>
    /// <param name="isKnownSymbol">Whether the exchange lists a symbol.</param>
    /// <param name="maxWindow">Longest startTime..endTime span, and the span implied by only one of them.</param>
    /// <param name="recentWindow">Span served when neither time nor fromId is sent.</param>
    public static ApiError? TryBuild(
        SignedQuery query,
        Func<string, bool> isKnownSymbol,
        TimeSpan maxWindow,
        TimeSpan recentWindow,
        long serverTimeMs,
        out string symbol,
        out TradeSelection selection)
    {
        symbol = string.Empty;
        selection = new TradeSelection(null, 0, 0, false, 0, null);

        // Unknown parameter names (a typo such as "fromid") are refused instead of silently ignored.
        var read = query.Names.Count(Known.Contains);
        if (read != query.Names.Count)
        {
            return ApiError.NotAllParametersRead(read, query.Names.Count);
        }

        symbol = query.Get("symbol") ?? string.Empty;
        if (symbol.Length == 0)
        {
            return ApiError.Mandatory("symbol");
        }

        if (!isKnownSymbol(symbol))
        {
            return ApiError.InvalidSymbol();
        }

        ApiError?[] parseErrors =
        [
            ParseOptional(query, "fromId", out var fromId),
            ParseOptional(query, "startTime", out var startTime),
            ParseOptional(query, "endTime", out var endTime),
            ParseOptional(query, "orderId", out var orderId),
            ParseOptional(query, "limit", out var limitValue),
        ];
        if (Array.Find(parseErrors, e => e is not null) is { } parseError)
        {
            return parseError;
        }

        var limit = limitValue ?? DefaultLimit;
        if (limit is < 1 or > MaxLimit)
        {
            return ApiError.InvalidParameter("limit");
        }

        // "The parameter fromId cannot be sent with startTime or endTime" (Binance docs).
        if (fromId is not null && (startTime is not null || endTime is not null))
        {
            return ApiError.FromIdWithTime();
        }

        if (fromId is not null)
        {
            selection = new TradeSelection(fromId, long.MinValue, long.MaxValue, false, (int)limit, orderId);
            return null;
        }

        var windowMs = (long)maxWindow.TotalMilliseconds;
        switch (startTime, endTime)
        {
            case ({ } start, { } end):
                if (start > end)
                {
                    return ApiError.StartAfterEnd();
                }

                // "The time between startTime and endTime cannot be longer than 7 days."
                if (end - start > windowMs)
                {
                    return ApiError.WindowTooLong(maxWindow);
                }

                selection = new TradeSelection(null, start, end, false, (int)limit, orderId);
                break;
            case ({ } start, null):
                selection = new TradeSelection(null, start, start + windowMs, false, (int)limit, orderId);
                break;
            case (null, { } end):
                selection = new TradeSelection(null, end - windowMs, end, false, (int)limit, orderId);
                break;
            default:
                // "If startTime and endTime are both not sent, then the last 7 days' data will be returned", most recent first cut.
                selection = new TradeSelection(null, serverTimeMs - (long)recentWindow.TotalMilliseconds, serverTimeMs, true, (int)limit, orderId);
                break;
        }

        return null;
    }

    private static ApiError? ParseOptional(SignedQuery query, string name, out long? value)
    {
        value = null;
        var text = query.Get(name);
        if (text is null)
        {
            return null;
        }

        if (text.Length == 0)
        {
            return ApiError.Mandatory(name);
        }

        if (!SignedQuery.TryParseLong(text, out var parsed))
        {
            return ApiError.IllegalCharacters(name);
        }

        value = parsed;
        return null;
    }
}
