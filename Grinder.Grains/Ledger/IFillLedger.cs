using Grinder.Grains.Binance;

namespace Grinder.Grains.Ledger;

/// <summary>Which feeder first saw a fill (column <c>first_seen_by</c>).</summary>
public enum FillFeeder
{
    /// <summary>The steady id-paged REST poll (or the bootstrap time windows).</summary>
    Poll,

    /// <summary>The trailing re-scan by time window: a fill it finds first was missed by the primary path.</summary>
    Rescan,

    /// <summary>The user data stream.</summary>
    Stream,
}

/// <summary>The ledger's unique key: trade ids are a sequence per symbol, a self-trade has one row per side (Binance docs).</summary>
public readonly record struct FillKey(string Symbol, long TradeId, FillSide Side);

/// <summary>Fills of one account to record, all seen by one feeder at one time.</summary>
/// <param name="Account">Account id (not the grain key).</param>
/// <param name="Source">Metric label <c>source</c> of the account (<c>reconcile</c>, <c>sim</c>, <c>manual</c>).</param>
public sealed record LedgerBatch(string Account, string Source, FillFeeder Feeder, long SeenAtMs, IReadOnlyList<ParsedTrade> Trades);

/// <summary>Totals bucket of an account: the labels of the fill counters.</summary>
public readonly record struct TotalsBucket(string Source, FillSide Side, FillLiquidity Liquidity);

/// <summary>Fees and rebates (as positive amounts) in one commission asset.</summary>
public sealed record AssetTotals(decimal Fees, decimal Rebates)
{
    public static AssetTotals Zero { get; } = new(0m, 0m);
}

/// <summary>
/// What the ledger has counted for one account: the source of the fill counters in <c>/metrics</c>. Buckets rise by
/// exactly the rows newly inserted, in the same transaction as the insert (plus totals carried over from a state
/// written before the ledger existed).
/// </summary>
/// <param name="Recovered">Counted fills first found by the trailing re-scan (<c>grinder_fill_recovered_total</c>).</param>
public sealed record AccountTotals(
    IReadOnlyDictionary<TotalsBucket, FillTotals> Buckets,
    IReadOnlyDictionary<string, AssetTotals> ByAsset,
    long Recovered)
{
    public static AccountTotals Empty { get; } = new(new Dictionary<TotalsBucket, FillTotals>(), new Dictionary<string, AssetTotals>(StringComparer.Ordinal), 0);

    public long Count => Buckets.Values.Sum(totals => totals.Count);
}

/// <summary>What one append did.</summary>
/// <param name="Inserted">Keys newly inserted and counted.</param>
/// <param name="PreLedger">Keys newly inserted but not counted: a state of the previous version had counted them already.</param>
/// <param name="Mismatched">Keys already in the ledger whose amounts (price, qty, quoteQty, realizedPnl, commission, asset) differ
/// from this batch: the first-seen values stay.</param>
/// <param name="Totals">The account's totals after this append.</param>
public sealed record LedgerAppendResult(
    IReadOnlyList<FillKey> Inserted,
    IReadOnlyList<FillKey> PreLedger,
    IReadOnlyList<FillKey> Mismatched,
    AccountTotals Totals);

/// <summary>
/// High-water mark of one symbol as counted by a state of the previous version (no ledger): a row at or below it was
/// counted already. Used once, when such a state is upgraded.
/// </summary>
public sealed record LegacyMark(string Symbol, long HighWaterId, bool BuyCounted, bool SellCounted)
{
    /// <summary>Whether the previous version had counted the row with this key.</summary>
    public bool Covers(long tradeId, FillSide side) =>
        tradeId < HighWaterId || (tradeId == HighWaterId && (side == FillSide.Buy ? BuyCounted : SellCounted));
}

/// <summary>Counters and marks of a state written before the ledger existed, carried into the ledger once per account.</summary>
public sealed record LegacyImport(
    string Account,
    string Source,
    IReadOnlyDictionary<TotalsBucket, FillTotals> Buckets,
    IReadOnlyDictionary<string, AssetTotals> ByAsset,
    IReadOnlyList<LegacyMark> Marks);

/// <summary>Position after which a <c>/fills</c> page continues (the order is time, symbol, trade id, side).</summary>
public sealed record FillPageKey(long TimeMs, string Symbol, long TradeId, FillSide Side);

/// <summary>A <c>/fills</c> query. Times are trade times in epoch ms, <c>from</c> inclusive, <c>to</c> exclusive.</summary>
/// <param name="Limit">Most rows returned; null for all (CSV export).</param>
public sealed record FillQuery(string Account, string? Symbol, long? FromMs, long? ToMs, FillPageKey? After, int? Limit);

/// <summary>One ledger row as stored.</summary>
public sealed record LedgerRow(
    string Account,
    string Source,
    ParsedTrade Trade,
    long FirstSeenMs,
    FillFeeder FirstSeenBy,
    bool PreLedger)
{
    public FillPageKey PageKey => new(Trade.TimeMs, Trade.Symbol, Trade.Id, Trade.Side);
}

/// <summary>Per symbol totals of <c>/fills/summary</c>.</summary>
public sealed record SymbolSummary(
    string Symbol,
    long Fills,
    decimal BuyQty,
    decimal SellQty,
    decimal BuyNotional,
    decimal SellNotional,
    decimal RealizedPnl,
    IReadOnlyDictionary<string, AssetTotals> ByAsset);

/// <summary>
/// The durable fill ledger: one row per fill under <see cref="FillKey"/>, and per account the totals the fill counters
/// come from. Exactly once is this key: appending a row twice, from any feeder, in any order, from two activations at
/// once, inserts and counts it once. Implementations: PostgreSQL (production) and SQLite (local mode).
/// </summary>
public interface IFillLedger
{
    /// <summary>Inserts the rows of <paramref name="batch"/> not yet recorded and raises the totals by exactly those, in one transaction.</summary>
    Task<LedgerAppendResult> AppendAsync(LedgerBatch batch, CancellationToken cancellationToken);

    /// <summary>The account's totals (empty when it has none).</summary>
    Task<AccountTotals> GetTotalsAsync(string account, CancellationToken cancellationToken);

    /// <summary>Carries a pre-ledger state's counters and marks into the ledger; idempotent per account (a second call changes nothing).</summary>
    /// <returns>The account's totals afterwards.</returns>
    Task<AccountTotals> ImportLegacyAsync(LegacyImport import, CancellationToken cancellationToken);

    /// <summary>Rows of <paramref name="query"/> in (time, symbol, trade id, side) order, streamed.</summary>
    IAsyncEnumerable<LedgerRow> QueryAsync(FillQuery query, CancellationToken cancellationToken);

    /// <summary>Per symbol summary of the account's rows with trade time in [<paramref name="fromMs"/>, <paramref name="toMs"/>).</summary>
    Task<IReadOnlyList<SymbolSummary>> SummarizeAsync(string account, long? fromMs, long? toMs, CancellationToken cancellationToken);

    /// <summary>Whether the ledger answers (for <c>/healthz</c>).</summary>
    Task PingAsync(CancellationToken cancellationToken);
}
