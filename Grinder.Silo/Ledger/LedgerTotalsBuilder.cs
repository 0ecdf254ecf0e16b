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
    private readonly Dictionary<TotalsBucket, FillTotals> _buckets = [];
    private readonly Dictionary<TotalsBucket, long> _recovered = [];
    private readonly Dictionary<string, AssetTotals> _assets = new(StringComparer.Ordinal);

    public IReadOnlyDictionary<TotalsBucket, FillTotals> Buckets => _buckets;

    public IReadOnlyDictionary<TotalsBucket, long> RecoveredByBucket => _recovered;

    public IReadOnlyDictionary<string, AssetTotals> Assets => _assets;

    public static decimal FeeOf(decimal commission) => commission > 0m ? commission : 0m;

    public static decimal RebateOf(decimal commission) => commission < 0m ? -commission : 0m;

    public void AddBucket(TotalsBucket bucket, FillTotals totals, long recoveredFills)
    {
        _buckets[bucket] = _buckets.TryGetValue(bucket, out var current) ? current.Add(totals) : totals;
        _recovered[bucket] = _recovered.GetValueOrDefault(bucket) + recoveredFills;
    }

    public void AddAsset(string asset, AssetTotals totals) =>
        _assets[asset] = _assets.TryGetValue(asset, out var current)
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
        new Dictionary<TotalsBucket, FillTotals>(_buckets),
        new Dictionary<string, AssetTotals>(_assets, StringComparer.Ordinal),
        _recovered.Values.Sum());
}
