using Grinder.Grains;
using Grinder.Grains.Binance;
using Grinder.Grains.Ledger;

namespace Grinder.Silo.Ledger;

/// <summary>
/// Adds up an account's totals in decimals: from the stored totals rows, from a legacy import, or fill by fill.
/// Fees are the positive commissions, rebates the negative ones as positive amounts (never netted against each other).
/// </summary>
public sealed class LedgerTotalsBuilder
{
    private readonly Dictionary<TotalsBucket, FillTotals> buckets = [];
    private readonly Dictionary<TotalsBucket, long> recovered = [];
    private readonly Dictionary<string, AssetTotals> assets = new(StringComparer.Ordinal);

    public IReadOnlyDictionary<TotalsBucket, FillTotals> Buckets => buckets;

    public IReadOnlyDictionary<TotalsBucket, long> RecoveredByBucket => recovered;

    public IReadOnlyDictionary<string, AssetTotals> Assets => assets;

    public static decimal FeeOf(decimal commission) => commission > 0m ? commission : 0m;

    public static decimal RebateOf(decimal commission) => commission < 0m ? -commission : 0m;

    public void AddBucket(TotalsBucket bucket, FillTotals totals, long recoveredFills)
    {
        buckets[bucket] = buckets.TryGetValue(bucket, out var current) ? current.Add(totals) : totals;
        recovered[bucket] = recovered.GetValueOrDefault(bucket) + recoveredFills;
    }

    public void AddAsset(string asset, AssetTotals totals) =>
        assets[asset] = assets.TryGetValue(asset, out var current)
            ? new AssetTotals(current.Fees + totals.Fees, current.Rebates + totals.Rebates)
            : totals;

    /// <summary>Counts one fill into its bucket and its commission asset.</summary>
    public void AddFill(string source, ParsedTrade trade, bool isRecovered)
    {
        var fee = FeeOf(trade.Commission);
        var rebate = RebateOf(trade.Commission);
        AddBucket(new TotalsBucket(source, trade.Side, trade.Liquidity), new FillTotals(1, trade.Notional, fee, rebate), isRecovered ? 1 : 0);
        AddAsset(trade.CommissionAsset, new AssetTotals(fee, rebate));
    }

    public AccountTotals Build() => new(
        new Dictionary<TotalsBucket, FillTotals>(buckets),
        new Dictionary<string, AssetTotals>(assets, StringComparer.Ordinal),
        recovered.Values.Sum());
}
