using Grinder.Grains.Binance;

namespace Grinder.Grains.Metrics;

/// <summary>
/// The label vocabulary of the fill metrics, in one place: the values the account grain counts under, the metrics grain
/// sums by and the exporter writes (the runbook's names). A series travels between them as its label values joined by
/// <see cref="Separator"/>, built by <see cref="Series"/> and taken apart by <see cref="Labels"/>, nowhere else.
/// </summary>
public static class MetricLabels
{
    /// <summary>Joins label values into a series key (a value never contains it: sources, symbols and labels are plain words).</summary>
    public const char Separator = '|';

    /// <summary><c>reason</c> of <c>grinder_fill_ingest_errors_total</c>.</summary>
    public static class Reason
    {
        public const string Http = "http";
        public const string Parse = "parse";
        public const string Cursor = "cursor";
        public const string Unknown = "unknown";

        /// <summary>The reason a failed read of the exchange is counted under.</summary>
        public static string Of(BinanceFailureKind kind) => kind switch
        {
            BinanceFailureKind.Http => Http,
            BinanceFailureKind.Parse => Parse,
            _ => Unknown,
        };
    }

    /// <summary><c>result</c> of <c>grinder_fill_cursor_load_total</c> and <c>grinder_fill_cursor_save_total</c>.</summary>
    public static class CursorResult
    {
        public const string Ok = "ok";
        public const string Error = "error";
        public const string RejectedNonMonotonic = "rejected_non_monotonic";
    }

    /// <summary><c>result</c> of <c>grinder_fill_stream_events_total</c>.</summary>
    public static class StreamEvent
    {
        public const string Recorded = "recorded";
        public const string Duplicate = "duplicate";
        public const string Rejected = "rejected";
        public const string Mismatch = "mismatch";
    }

    /// <summary><c>side</c> of the fill families.</summary>
    public static string Side(FillSide side) => side == FillSide.Buy ? "buy" : "sell";

    /// <summary><c>liquidity</c> of the fill families.</summary>
    public static string Liquidity(FillLiquidity liquidity) => liquidity == FillLiquidity.Maker ? "maker" : "taker";

    /// <summary>The key of one (side, liquidity) bucket of an account's fill totals, e.g. <c>buy|taker</c>.</summary>
    public static string Bucket(FillSide side, FillLiquidity liquidity) => Series(Side(side), Liquidity(liquidity));

    /// <summary>Reads a bucket key written by <see cref="Bucket"/> (also by versions before the ledger); false for anything else.</summary>
    public static bool TryParseBucket(string key, out FillSide side, out FillLiquidity liquidity)
    {
        ArgumentNullException.ThrowIfNull(key);
        var parts = Labels(key);
        side = parts is [var s, _] && s == "sell" ? FillSide.Sell : FillSide.Buy;
        liquidity = parts is [_, var l] && l == "maker" ? FillLiquidity.Maker : FillLiquidity.Taker;
        return parts is [("buy" or "sell"), ("maker" or "taker")];
    }

    /// <summary>The series key of these label values, in the order of the family's label names.</summary>
    public static string Series(params string[] values) => string.Join(Separator, values);

    /// <summary>The label values of a series key, in the order they were joined.</summary>
    public static string[] Labels(string series)
    {
        ArgumentNullException.ThrowIfNull(series);
        return series.Split(Separator);
    }
}
