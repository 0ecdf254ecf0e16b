using Grinder.Grains;
using Grinder.Grains.Binance;
using Grinder.Grains.Ledger;

namespace Grinder.Silo.Ledger;

/// <summary>
/// The text forms the ledger stores: sides as Binance writes them (<c>BUY</c>/<c>SELL</c>), feeders and counter
/// buckets as the metric labels (<c>poll</c>, <c>buy</c>, <c>maker</c>). Both stores and the HTTP API use these.
/// </summary>
public static class LedgerCodes
{
    public static string Side(FillSide side) => side == FillSide.Buy ? "BUY" : "SELL";

    public static FillSide ParseSide(string text) => text switch
    {
        "BUY" => FillSide.Buy,
        "SELL" => FillSide.Sell,
        _ => throw new FormatException($"Unknown side '{text}' in the ledger."),
    };

    public static string Feeder(FillFeeder feeder) => feeder switch
    {
        FillFeeder.Poll => "poll",
        FillFeeder.Rescan => "rescan",
        FillFeeder.Stream => "stream",
        _ => throw new ArgumentOutOfRangeException(nameof(feeder), feeder, "Unknown feeder."),
    };

    public static FillFeeder ParseFeeder(string text) => text switch
    {
        "poll" => FillFeeder.Poll,
        "rescan" => FillFeeder.Rescan,
        "stream" => FillFeeder.Stream,
        _ => throw new FormatException($"Unknown feeder '{text}' in the ledger."),
    };

    public static string BucketSide(FillSide side) => side.Label();

    public static FillSide ParseBucketSide(string text) => text switch
    {
        "buy" => FillSide.Buy,
        "sell" => FillSide.Sell,
        _ => throw new FormatException($"Unknown totals side '{text}' in the ledger."),
    };

    public static string Liquidity(FillLiquidity liquidity) => liquidity.Label();

    public static FillLiquidity ParseLiquidity(string text) => text switch
    {
        "maker" => FillLiquidity.Maker,
        "taker" => FillLiquidity.Taker,
        _ => throw new FormatException($"Unknown liquidity '{text}' in the ledger."),
    };
}
