namespace Grinder.FakeBinance;

/// <summary>The dedup key of a fill (symbol, id, side): a self-trade is one id with two rows, BUY and SELL.</summary>
public readonly record struct FakeTradeKey(string Symbol, long Id, string Side)
{
    public override string ToString() => $"{Symbol}/{Id}/{Side}";
}
