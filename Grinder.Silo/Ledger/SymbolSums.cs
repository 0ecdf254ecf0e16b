using Grinder.Grains.Ledger;

namespace Grinder.Silo.Ledger;

/// <summary>Running sums of one symbol while <see cref="SqliteFillLedger.SummarizeAsync"/> streams the rows.</summary>
internal sealed class SymbolSums
{
    public long Fills { get; set; }

    public decimal BuyQty { get; set; }

    public decimal SellQty { get; set; }

    public decimal BuyNotional { get; set; }

    public decimal SellNotional { get; set; }

    public decimal RealizedPnl { get; set; }

    public Dictionary<string, AssetTotals> ByAsset { get; } = new(StringComparer.Ordinal);
}
