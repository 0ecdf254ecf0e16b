namespace Grinder.Grains.Binance;

/// <summary>Why a request to Binance brought no usable answer, as this layer sees it (ingest decides how to count it).</summary>
public enum BinanceFailureKind
{
    /// <summary>No answer to use: no credentials to ask with, an error status, a timeout, a broken connection.</summary>
    Http,

    /// <summary>An answer that is not what the endpoint documents: too large, not the expected JSON, a full page without a readable trade id.</summary>
    Parse,

    /// <summary>An exception the client does not expect (a bug), caught so that one symbol cannot stop the others.</summary>
    Unexpected,
}
