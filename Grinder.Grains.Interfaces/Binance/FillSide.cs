namespace Grinder.Grains.Binance;

/// <summary>Taker or maker side of a fill, from Binance's <c>side</c> field.</summary>
[GenerateSerializer]
public enum FillSide
{
    Buy,
    Sell,
}
