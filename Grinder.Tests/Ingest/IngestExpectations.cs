using Grinder.FakeBinance;
using Grinder.Grains;
using Grinder.Grains.Binance;
using Grinder.Grains.Ledger;
using Grinder.Tests.Infrastructure;

namespace Grinder.Tests.Ingest;

/// <summary>What a correct ingest must have counted, computed independently from the fake exchange's own rows.</summary>
public static class IngestExpectations
{
    /// <summary>Per (side, liquidity): the exchange's own BUY/SELL and maker flag, read here without the service's parsers.</summary>
    public static Dictionary<FillBucket, FillTotals> Totals(IEnumerable<FakeTrade> trades) =>
        trades
            .GroupBy(trade => new FillBucket(
                trade.Side switch { "BUY" => FillSide.Buy, "SELL" => FillSide.Sell, _ => throw new InvalidOperationException($"side '{trade.Side}'") },
                trade.Maker ? FillLiquidity.Maker : FillLiquidity.Taker))
            .ToDictionary(
                group => group.Key,
                group => new FillTotals(
                    group.Count(),
                    group.Sum(trade => trade.Qty * trade.Price),
                    group.Sum(trade => trade.Commission > 0 ? trade.Commission : 0m),
                    group.Sum(trade => trade.Commission < 0 ? -trade.Commission : 0m)));

    public static long Count(AccountSnapshot snapshot) => snapshot.Fills.Values.Sum(totals => totals.Count);

    public static long Saves(AccountSnapshot snapshot, CursorResult result) => snapshot.CursorSaves.GetValueOrDefault(result);

    public static void Equal<TKey>(IReadOnlyDictionary<TKey, FillTotals> expected, IReadOnlyDictionary<TKey, FillTotals> actual)
        where TKey : notnull
    {
        Assert.Equal(expected.Keys.Select(key => key.ToString()).Order(), actual.Keys.Select(key => key.ToString()).Order());
        foreach (var (bucket, totals) in expected)
        {
            Assert.Equal(totals, actual[bucket]);
        }
    }

    /// <summary>Waits until the account has counted <paramref name="count"/> fills, then returns its snapshot.</summary>
    public static Task<AccountSnapshot> CountedAsync(IFillIngestGrain account, long count, TimeSpan? timeout = null) =>
        Eventually.ReturnsAsync(account.GetSnapshotAsync, snapshot => Count(snapshot) >= count, timeout ?? TimeSpan.FromSeconds(60), $"{count} fills counted");

    /// <summary>Waits until the account has completed <paramref name="more"/> further polls.</summary>
    public static async Task<AccountSnapshot> PollsAsync(IFillIngestGrain account, int more)
    {
        var start = (await account.GetSnapshotAsync()).Polls;
        return await Eventually.ReturnsAsync(account.GetSnapshotAsync, snapshot => snapshot.Polls >= start + more, TimeSpan.FromSeconds(60), $"{more} more polls");
    }

    /// <summary>
    /// Stored <c>Polls</c> of every account grain key, read now with SQL on <c>grinder_grain_state_json</c> as an operator
    /// reads it: progress seen without calling (and so activating) an account grain.
    /// </summary>
    public static async Task<Dictionary<string, long>> StoredPollsAsync(PostgresDatabase database)
    {
        var rows = await database.QueryAsync("SELECT grain_key, (state->>'Polls')::bigint FROM grinder_grain_state_json WHERE state_name = 'ingest'");
        return rows.ToDictionary(row => (string)row[0]!, row => (long)row[1]!, StringComparer.Ordinal);
    }

    /// <summary>Every ledger row of <paramref name="account"/>, in ledger order.</summary>
    public static async Task<List<LedgerRow>> RowsAsync(IFillLedger ledger, string account)
    {
        var rows = new List<LedgerRow>();
        await foreach (var row in ledger.QueryAsync(new FillQuery(account, null, null, null, null, null), CancellationToken.None))
        {
            rows.Add(row);
        }

        return rows;
    }

    /// <summary>
    /// The end of every test that moves fills: the ledger's set of (symbol, id, side) equals the exchange's trades exactly,
    /// and the account's totals (what /metrics serves) equal the sums of the ledger's rows.
    /// </summary>
    public static async Task LedgerEqualsExchangeAsync(IFillLedger ledger, string account, FakeExchange exchange, string apiKey)
    {
        var rows = await RowsAsync(ledger, account);
        var keys = rows.Select(row => new FakeTradeKey(row.Trade.Symbol, row.Trade.Id, row.Trade.Side == Grinder.Grains.Binance.FillSide.Buy ? "BUY" : "SELL")).ToList();
        Assert.Equal(keys.Count, keys.Distinct().Count());
        var expected = exchange.TradeKeys(apiKey);
        var missing = expected.Except(keys).Order().Take(10).ToList();
        var extra = keys.Except(expected).Order().Take(10).ToList();
        Assert.True(missing.Count == 0 && extra.Count == 0, $"ledger differs from the exchange: missing [{string.Join(", ", missing)}], extra [{string.Join(", ", extra)}]");

        var totals = await ledger.GetTotalsAsync(account, CancellationToken.None);
        var counted = rows.Where(row => !row.PreLedger).ToList();
        Assert.Equal(rows.Count, totals.Count);
        Assert.Equal(rows.Sum(row => row.Trade.Notional), totals.Buckets.Values.Sum(bucket => bucket.Notional));
        Assert.Equal(rows.Sum(row => Math.Max(0m, row.Trade.Commission)), totals.Buckets.Values.Sum(bucket => bucket.Fees));
        Assert.Equal(rows.Sum(row => Math.Max(0m, -row.Trade.Commission)), totals.Buckets.Values.Sum(bucket => bucket.Rebates));
        Assert.Equal(counted.Count(row => row.FirstSeenBy == FillFeeder.Rescan), totals.Recovered);
    }
}
