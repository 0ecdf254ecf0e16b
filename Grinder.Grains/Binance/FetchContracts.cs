namespace Grinder.Grains.Binance;

/// <summary>Where to read next for one (account, symbol).</summary>
/// <param name="LastTradeId">Highest trade id already read (valid or rejected); null while bootstrapping.</param>
/// <param name="LastTimeMs">Time of that trade (the second element of the runbook's cursor tuple).</param>
/// <param name="BootstrapFromMs">While <paramref name="LastTradeId"/> is null: start of the next time window to scan.</param>
/// <param name="ResumeInclusive">The last page read was full, so the next request must include <paramref name="LastTradeId"/>
/// itself: a self-trade's second row (same id, other side) may sit on the next page.</param>
public sealed record FetchPosition(long? LastTradeId, long LastTimeMs, long? BootstrapFromMs, bool ResumeInclusive);

/// <summary>One poll of one symbol.</summary>
public sealed record FetchRequest(string Symbol, FetchPosition Position, int MaxPages);

/// <summary>What one poll of one symbol read. Rows from pages that succeeded are kept even when a later page failed.</summary>
/// <param name="Trades">Valid rows, sorted by (id, side); may include rows already counted (the grain dedups).</param>
/// <param name="Rejected">Rows that failed validation.</param>
/// <param name="Next">Position after everything returned here.</param>
/// <param name="Error">Why the poll stopped early, if it did.</param>
/// <param name="ErrorDetail">Operator-facing detail (no secrets, no signed query).</param>
/// <param name="Requests">HTTP requests made.</param>
public sealed record FetchResult(
    IReadOnlyList<ParsedTrade> Trades,
    IReadOnlyList<RejectedRow> Rejected,
    FetchPosition Next,
    BinanceFailureKind? Error,
    string? ErrorDetail,
    int Requests);

/// <summary>Reads an account's fills for one symbol, paging from a position. Read-only by construction.</summary>
public interface IUserTradesFetcher
{
    /// <summary>Reads from <see cref="FetchRequest.Position"/> for up to <see cref="FetchRequest.MaxPages"/> pages. Never throws for exchange or payload faults: they come back in <see cref="FetchResult.Error"/>.</summary>
    Task<FetchResult> FetchAsync(BinanceCredentials credentials, FetchRequest request, CancellationToken cancellationToken);

    /// <summary>
    /// Reads every row of <see cref="WindowRequest.Symbol"/> with a trade time in the window, by <c>startTime</c>/<c>endTime</c>
    /// (the trailing re-scan). <see cref="FetchResult.Next"/> is not a read position here and is to be ignored.
    /// </summary>
    Task<FetchResult> FetchWindowAsync(BinanceCredentials credentials, WindowRequest request, CancellationToken cancellationToken);
}

/// <summary>A time window of one symbol, both ends inclusive (Binance semantics), at most 7 days long.</summary>
public sealed record WindowRequest(string Symbol, long StartMs, long EndMs, int MaxPages);
