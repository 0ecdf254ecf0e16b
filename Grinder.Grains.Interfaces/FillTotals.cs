namespace Grinder.Grains;

/// <summary>Cumulative fills of one (side, liquidity) bucket. Rebates (negative commissions) are kept apart from fees, never subtracted.</summary>
[GenerateSerializer, Immutable]
public sealed record FillTotals(
    [property: Id(0)] long Count,
    [property: Id(1)] decimal Notional,
    [property: Id(2)] decimal Fees,
    [property: Id(3)] decimal Rebates)
{
    public static FillTotals Zero { get; } = new(0, 0m, 0m, 0m);

    public FillTotals Add(FillTotals other) =>
        new(Count + other.Count, Notional + other.Notional, Fees + other.Fees, Rebates + other.Rebates);

    public FillTotals Subtract(FillTotals other) =>
        new(Count - other.Count, Notional - other.Notional, Fees - other.Fees, Rebates - other.Rebates);
}
