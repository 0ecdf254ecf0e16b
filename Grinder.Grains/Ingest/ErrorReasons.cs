using Grinder.Grains.Binance;

namespace Grinder.Grains.Ingest;

/// <summary>How ingest counts the Binance layer's failure kinds: under the runbook's error reasons, which alerts select by.</summary>
public static class ErrorReasons
{
    /// <summary>The reason a failed read of the exchange is counted under.</summary>
    public static ErrorReason Of(BinanceFailureKind kind) => kind switch
    {
        BinanceFailureKind.Http => ErrorReason.Http,
        BinanceFailureKind.Parse => ErrorReason.Parse,
        _ => ErrorReason.Unknown,
    };
}
