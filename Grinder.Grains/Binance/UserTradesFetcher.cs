using System.Globalization;
using Grinder.Grains.Logging;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Grinder.Grains.Binance;

/// <summary>
/// Pages <c>GET /fapi/v1/userTrades</c> for one (account, symbol) from a <see cref="FetchPosition"/>.
/// </summary>
/// <remarks>
/// Binance USD-M "Account Trade List": <c>fromId</c> is inclusive, <c>limit</c> is at most 1000, rows come oldest first,
/// <c>fromId</c> cannot be combined with <c>startTime</c>/<c>endTime</c>, a time window spans at most 7 days and history
/// reaches back about 6 months. Steady state pages by id; a fresh cursor steps through time windows (never
/// <c>startTime=0</c>, defect 3) until the first row gives an id, then pages by id.
/// </remarks>
public sealed partial class UserTradesFetcher(
    BinanceRestClient client,
    BinanceServerClock clock,
    IOptions<BinanceOptions> options,
    ILogger<UserTradesFetcher> logger) : IUserTradesFetcher
{
    /// <summary>Binance keeps userTrades for about 6 months; an older startTime is clamped to this.</summary>
    public static readonly TimeSpan HistoryLimit = TimeSpan.FromDays(180);


    private readonly BinanceOptions _options = options.Value;

    /// <inheritdoc />
    public async Task<FetchResult> FetchAsync(BinanceCredentials credentials, FetchRequest request, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(credentials);
        ArgumentNullException.ThrowIfNull(request);
        var run = new FetchRun(request.Position);
        await GuardAsync(run, request.Symbol, "reading", () => RunAsync(credentials, request, run, cancellationToken), cancellationToken).ConfigureAwait(false);
        return run.ToResult();
    }

    /// <inheritdoc />
    public async Task<FetchResult> FetchWindowAsync(BinanceCredentials credentials, WindowRequest request, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(credentials);
        ArgumentNullException.ThrowIfNull(request);
        var run = new FetchRun(new FetchPosition(null, 0, request.StartMs, false));
        await GuardAsync(run, request.Symbol, "re-scanning", () => RunWindowAsync(credentials, request, run, cancellationToken), cancellationToken).ConfigureAwait(false);
        return run.ToResult();
    }

    // The contract is "never throws for exchange or payload faults": anything unforeseen is reported in the run, not thrown;
    // only the caller's own cancellation propagates.
    private async Task GuardAsync(FetchRun run, string symbol, string doing, Func<Task> body, CancellationToken cancellationToken)
    {
        try
        {
            await body().ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            throw;
        }
        catch (Exception ex)
        {
            run.Fail(BinanceFailureKind.Unexpected, $"unexpected {ex.GetType().Name} while {doing} {BinanceEndpoints.UserTrades}");
            LogUnexpected(logger, symbol, ex);
        }
    }

    private async Task RunWindowAsync(BinanceCredentials credentials, WindowRequest request, FetchRun run, CancellationToken cancellationToken)
    {
        if (!await ClockReadyAsync(run, cancellationToken).ConfigureAwait(false))
        {
            return;
        }

        // A startTime..endTime window spans at most 7 days and reaches back about 6 months (Binance docs).
        var end = request.EndMs;
        var start = Math.Max(request.StartMs, Math.Max(end - (long)_options.BootstrapWindow.TotalMilliseconds + 1, clock.ServerNowMs - (long)HistoryLimit.TotalMilliseconds));
        var limit = _options.PageLimit;
        var maxPages = request.MaxPages <= 0 ? _options.MaxPagesPerPoll : Math.Min(request.MaxPages, _options.MaxPagesPerPoll);
        for (var page = 0; page < maxPages && start <= end; page++)
        {
            var query = "symbol=" + Uri.EscapeDataString(request.Symbol)
                + "&startTime=" + start.ToString(CultureInfo.InvariantCulture)
                + "&endTime=" + end.ToString(CultureInfo.InvariantCulture)
                + "&limit=" + limit.ToString(CultureInfo.InvariantCulture);
            if (await ReadPageAsync(credentials, request.Symbol, query, run, cancellationToken).ConfigureAwait(false) is not { } parsed)
            {
                return;
            }

            run.Add(parsed);
            if (parsed.RowCount < limit)
            {
                return;
            }

            // Rows come oldest first: continue from the newest time on this page, inclusively, since more rows may share
            // that millisecond (the run drops the repeats). A full page within one millisecond moves on past it.
            var newest = parsed.Trades.Count > 0 ? parsed.Trades.Max(trade => trade.TimeMs) : start;
            start = newest > start ? newest : start + 1;
        }
    }

    // The server clock offset is needed for every signed request; a failure to get it ends the run.
    private async Task<bool> ClockReadyAsync(FetchRun run, CancellationToken cancellationToken)
    {
        var clockFailure = await client.EnsureClockAsync(cancellationToken).ConfigureAwait(false);
        if (clockFailure is null)
        {
            return true;
        }

        run.Requests += clockFailure.Requests;
        if (!clockFailure.IsSuccess)
        {
            run.Fail(clockFailure.Error!.Value, clockFailure.ErrorDetail!);
            return false;
        }

        return true;
    }

    // One userTrades page, parsed and added to the run; null (and the run failed) when the request or the whole body failed.
    private async Task<TradePage?> ReadPageAsync(BinanceCredentials credentials, string symbol, string query, FetchRun run, CancellationToken cancellationToken)
    {
        var response = await client.GetSignedAsync(
            BinanceEndpoints.UserTrades, query, BinanceEndpoints.UserTradesWeight, credentials, cancellationToken).ConfigureAwait(false);
        run.Requests += response.Requests;
        if (!response.IsSuccess)
        {
            run.Fail(response.Error!.Value, response.ErrorDetail!);
            return null;
        }

        var parsed = TradeRowParser.ParsePage(response.Body.Span, symbol);
        if (parsed.PageError is not null)
        {
            LogPageInvalid(logger, symbol, parsed.PageError);
            run.Fail(BinanceFailureKind.Parse, $"{BinanceEndpoints.UserTrades} {symbol}: {parsed.PageError}");
            return null;
        }

        return parsed;
    }

    private async Task RunAsync(BinanceCredentials credentials, FetchRequest request, FetchRun run, CancellationToken cancellationToken)
    {
        if (!await ClockReadyAsync(run, cancellationToken).ConfigureAwait(false))
        {
            return;
        }

        var maxPages = request.MaxPages <= 0 ? _options.MaxPagesPerPoll : Math.Min(request.MaxPages, _options.MaxPagesPerPoll);
        var symbolParam = "symbol=" + Uri.EscapeDataString(request.Symbol);
        var limit = _options.PageLimit;
        var limitParam = "&limit=" + limit.ToString(CultureInfo.InvariantCulture);

        for (var page = 0; page < maxPages; page++)
        {
            var position = run.Position;
            var nowMs = clock.ServerNowMs;
            string query;
            long windowStart = 0, windowEnd = 0;
            if (position.LastTradeId is { } lastId)
            {
                var fromId = position.ResumeInclusive ? lastId : lastId + 1;
                query = symbolParam + "&fromId=" + fromId.ToString(CultureInfo.InvariantCulture) + limitParam;
            }
            else
            {
                (windowStart, windowEnd) = BootstrapWindow(position.BootstrapFromMs, nowMs);
                if (windowStart > windowEnd)
                {
                    // Start lies in the future (host clock ahead, or a lookback of zero): nothing to ask yet.
                    return;
                }

                query = symbolParam
                    + "&startTime=" + windowStart.ToString(CultureInfo.InvariantCulture)
                    + "&endTime=" + windowEnd.ToString(CultureInfo.InvariantCulture)
                    + limitParam;
            }

            if (await ReadPageAsync(credentials, request.Symbol, query, run, cancellationToken).ConfigureAwait(false) is not { } parsed)
            {
                return;
            }

            run.Add(parsed);
            var full = parsed.RowCount >= limit;

            if (position.LastTradeId is { } previousId)
            {
                if (parsed.MaxId is { } maxId && maxId > previousId)
                {
                    run.Position = position with { LastTradeId = maxId, LastTimeMs = parsed.MaxIdTimeMs ?? position.LastTimeMs, ResumeInclusive = full };
                }
                else
                {
                    // No id beyond the cursor: either the tail of the book (not full) or a full page stuck on one id,
                    // where re-reading inclusively would loop; step past it in both cases.
                    run.Position = position with { ResumeInclusive = false };
                }

                if (!full)
                {
                    return;
                }

                continue;
            }

            // Bootstrap window.
            if (parsed.MaxId is { } firstId)
            {
                // First ids seen: from here on page by id. Rows after this window have larger ids (ids grow with time per
                // symbol), so fromId paging also covers the later windows. A full window page means the window may hold
                // more rows, including the other half of a self-trade with the same id: continue inclusively.
                run.Position = new FetchPosition(firstId, parsed.MaxIdTimeMs ?? position.LastTimeMs, null, full);
                continue;
            }

            if (full)
            {
                // A full page of rows without one readable id: moving the window on could skip unseen rows.
                run.Fail(BinanceFailureKind.Parse, $"{BinanceEndpoints.UserTrades} {request.Symbol}: a full page without a readable trade id in window {windowStart}..{windowEnd}");
                return;
            }

            // No trade in this window. Rows become visible late, with their execution time, so the last
            // BootstrapSafetyOverlap before now is never taken as scanned: the next window starts there at the latest
            // (never before this window's start). Without this, a window that ends just short of now (the first window
            // of a fresh cursor with the default 7-day lookback ends 1 ms before the poll began) would be left behind
            // for good, and a row that appeared in its last moments after it was read would be lost.
            var settledUntil = nowMs - (long)_options.BootstrapSafetyOverlap.TotalMilliseconds;
            run.Position = position with { BootstrapFromMs = Math.Max(windowStart, Math.Min(windowEnd + 1, settledUntil)), ResumeInclusive = false };
            if (windowEnd >= nowMs)
            {
                // Caught up with now: the next poll scans again from there.
                return;
            }
        }
    }

    /// <summary>The next startTime..endTime window (both inclusive, Binance semantics).</summary>
    private (long Start, long End) BootstrapWindow(long? bootstrapFromMs, long nowMs)
    {
        var windowMs = (long)_options.BootstrapWindow.TotalMilliseconds;

        // Defect 3 of the original: startTime=0 returns nothing. A missing or non-positive start means "the last window".
        var start = bootstrapFromMs is { } from && from > 0 ? from : nowMs - windowMs;
        start = Math.Max(start, nowMs - (long)HistoryLimit.TotalMilliseconds);
        var end = Math.Min(start + windowMs - 1, nowMs);
        return (start, end);
    }

    /// <summary>Accumulates one fetch: dedups by (id, side), keeps the position after the last good page.</summary>
    private sealed class FetchRun(FetchPosition position)
    {
        private readonly List<ParsedTrade> _trades = [];
        private readonly HashSet<(long Id, FillSide Side)> _seen = [];
        private readonly List<RejectedRow> _rejected = [];
        private readonly HashSet<(long? Id, string Reason, string Raw)> _seenRejected = [];

        public FetchPosition Position { get; set; } = position;

        public int Requests { get; set; }

        public BinanceFailureKind? Error { get; private set; }

        public string? ErrorDetail { get; private set; }

        public void Add(TradePage page)
        {
            foreach (var trade in page.Trades)
            {
                // Self-trades: two rows share an id (one per side); an inclusive re-read repeats the boundary row.
                if (_seen.Add((trade.Id, trade.Side)))
                {
                    _trades.Add(trade);
                }
            }

            foreach (var row in page.Rejected)
            {
                if (_seenRejected.Add((row.TradeId, row.Reason, row.Raw)))
                {
                    _rejected.Add(row);
                }
            }
        }

        public void Fail(BinanceFailureKind reason, string detail)
        {
            Error = reason;
            ErrorDetail = detail;
        }

        public FetchResult ToResult()
        {
            _trades.Sort(static (a, b) => a.Id != b.Id ? a.Id.CompareTo(b.Id) : a.Side.CompareTo(b.Side));
            return new FetchResult(_trades, _rejected, Position, Error, ErrorDetail, Requests);
        }
    }



    [LoggerMessage(EventId = LogEvents.Binance.BinancePageInvalid, EventName = "BINANCE_PAGE_INVALID", Level = LogLevel.Warning,
        Message = "BINANCE_PAGE_INVALID symbol={Symbol}: {Detail}; page discarded, cursor unchanged")]
    private static partial void LogPageInvalid(ILogger logger, string symbol, string detail);

    [LoggerMessage(EventId = LogEvents.Binance.BinanceFetchUnexpected, EventName = "BINANCE_FETCH_UNEXPECTED", Level = LogLevel.Error,
        Message = "BINANCE_FETCH_UNEXPECTED symbol={Symbol}: unexpected failure while fetching trades")]
    private static partial void LogUnexpected(ILogger logger, string symbol, Exception exception);
}
