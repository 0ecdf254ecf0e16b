namespace Grinder.Grains.Binance;

/// <summary>Maker or taker, from Binance's <c>maker</c> field.</summary>
[GenerateSerializer]
public enum FillLiquidity
{
    Maker,
    Taker,
}
