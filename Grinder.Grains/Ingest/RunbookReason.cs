using Grinder.Grains.Binance;

namespace Grinder.Grains.Ingest;

/// <summary>The runbook's error reasons a read of the exchange is counted under (label <c>reason</c> of <c>grinder_fill_ingest_errors_total</c>).</summary>
public static class RunbookReason
{
    public const string Http = "http";
    public const string Parse = "parse";
    public const string Unknown = "unknown";

    /// <summary>The reason a failed read of the exchange is counted under.</summary>
    public static string Of(BinanceFailureKind kind) => kind switch
    {
        BinanceFailureKind.Http => Http,
        BinanceFailureKind.Parse => Parse,
        _ => Unknown,
    };
}
