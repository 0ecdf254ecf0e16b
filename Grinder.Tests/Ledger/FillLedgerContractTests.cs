using Grinder.Grains;
using Grinder.Grains.Binance;
using Grinder.Grains.Ledger;
using Grinder.Silo.Ledger;
using static Grinder.Tests.Ledger.LedgerTrades;

namespace Grinder.Tests.Ledger;

/// <summary>
/// What every <see cref="IFillLedger"/> must do, run against each implementation by a derived class (PostgreSQL on a
/// real server, SQLite on a real file). Each test works on an account of its own.
/// </summary>
public abstract class FillLedgerContractTests : IAsyncLifetime
{
    private readonly List<IFillLedger> _opened = [];

    protected string Account { get; } = "acct" + Guid.NewGuid().ToString("N")[..12];

    protected IFillLedger Ledger { get; private set; } = null!;

    /// <summary>Opens a ledger on this test's store; called again, it opens the same store anew (a restart).</summary>
    protected abstract Task<IFillLedger> OpenAsync();

    /// <summary>A second writer on the same store, as a second activation of the account would use.</summary>
    protected abstract Task<IFillLedger> OpenSecondWriterAsync();

    /// <summary>Closes a ledger from <see cref="OpenAsync"/> (releases files and connections).</summary>
    protected abstract ValueTask CloseAsync(IFillLedger ledger);

    public virtual async Task InitializeAsync() => Ledger = await TrackAsync(OpenAsync());

    public virtual async Task DisposeAsync()
    {
        foreach (var ledger in _opened.Distinct())
        {
            await CloseAsync(ledger);
        }
    }

    [Fact]
    public async Task Ledger_a_row_is_recorded_and_counted_once_however_often_and_by_whomever_it_is_appended()
    {
        var a = Trade("BTCUSDT", 1);
        var b = Trade("BTCUSDT", 2, timeOffsetMs: 1);
        var c = Trade("ETHUSDT", 1, timeOffsetMs: 2);

        var first = await Ledger.AppendAsync(Batch(Account, FillFeeder.Poll, a, a, b), CancellationToken.None);
        Assert.Equal([Key(a), Key(b)], first.Inserted);
        Assert.Equal(2, first.Totals.Count);

        var second = await Ledger.AppendAsync(Batch(Account, FillFeeder.Rescan, b, c), CancellationToken.None);
        Assert.Equal([Key(c)], second.Inserted);
        Assert.Empty(second.Mismatched);
        Assert.Equal(3, second.Totals.Count);
        Assert.Equal(1, second.Totals.Recovered);

        var third = await Ledger.AppendAsync(Batch(Account, FillFeeder.Stream, c, a, b), CancellationToken.None);
        Assert.Empty(third.Inserted);
        Assert.Equal(3, third.Totals.Count);

        var rows = await Ledger.AllAsync(Account);
        Assert.Equal([a, b, c], rows.Select(row => row.Trade));
        Assert.Equal([FillFeeder.Poll, FillFeeder.Poll, FillFeeder.Rescan], rows.Select(row => row.FirstSeenBy));
        Assert.All(rows, row => Assert.Equal(T0 + 3_600_000, row.FirstSeenMs));
        Assert.All(rows, row => Assert.Equal("reconcile", row.Source));
        Assert.All(rows, row => Assert.Equal(Account, row.Account));
        Assert.Equal(3, (await Ledger.GetTotalsAsync(Account, CancellationToken.None)).Count);
    }

    [Fact]
    public async Task Ledger_page_sized_batches_count_exactly_new_overlapping_and_pre_ledger_rows()
    {
        // Batches of hundreds of rows, as a backfill sends them (the PostgreSQL ledger writes those by COPY first).
        static ParsedTrade Row(long id, string price = "97000.1") => Trade("BTCUSDT", id, id % 3 == 0 ? FillSide.Sell : FillSide.Buy,
            price: price, qty: $"0.00{id % 9 + 1}", commission: id % 7 == 0 ? "-0.00000011" : "0.0123", asset: id % 11 == 0 ? "BNB" : "USDT",
            liquidity: id % 2 == 0 ? FillLiquidity.Maker : FillLiquidity.Taker, timeOffsetMs: id);
        var mark = new LegacyMark("BTCUSDT", 150, BuyCounted: true, SellCounted: false);
        await Ledger.ImportLegacyAsync(
            new LegacyImport(Account, "reconcile", new Dictionary<TotalsBucket, FillTotals>(), new Dictionary<string, AssetTotals>(StringComparer.Ordinal), [mark]),
            CancellationToken.None);
        var first = Enumerable.Range(1, 500).Select(i => Row(i)).ToList();
        var firstResult = await Ledger.AppendAsync(Batch(Account, FillFeeder.Poll, [.. first]), CancellationToken.None);

        Assert.Equal(first.Where(t => mark.Covers(t.Id, t.Side)).Select(Key), firstResult.PreLedger);
        Assert.Equal(first.Where(t => !mark.Covers(t.Id, t.Side)).Select(Key), firstResult.Inserted);
        Assert.Empty(firstResult.Mismatched);
        Assert.Equal(firstResult.Inserted.Count, firstResult.Totals.Count);
        Assert.Equal(first.Where(t => !mark.Covers(t.Id, t.Side)).Sum(t => t.Qty * t.Price), firstResult.Totals.Buckets.Values.Sum(b => b.Notional));

        // Overlaps the first batch by 200 rows, one with another price; 200 new rows, first seen by the re-scan.
        var second = Enumerable.Range(301, 400).Select(i => i == 400 ? Row(i, price: "1.5") : Row(i)).ToList();
        var secondResult = await Ledger.AppendAsync(Batch(Account, FillFeeder.Rescan, [.. second]), CancellationToken.None);

        Assert.Equal(second.Where(t => t.Id > 500).Select(Key), secondResult.Inserted);
        Assert.Equal([Key(Row(400))], secondResult.Mismatched);
        var counted = first.Where(t => !mark.Covers(t.Id, t.Side)).Concat(second.Where(t => t.Id > 500)).ToList();
        foreach (var totals in new[] { secondResult.Totals, await Ledger.GetTotalsAsync(Account, CancellationToken.None) })
        {
            Assert.Equal(counted.Count, totals.Count);
            Assert.Equal(200, totals.Recovered);
            Assert.Equal(counted.Sum(t => t.Qty * t.Price), totals.Buckets.Values.Sum(b => b.Notional));
            Assert.Equal(counted.Where(t => t.CommissionAsset == "USDT").Sum(t => Math.Max(t.Commission, 0m)), totals.ByAsset["USDT"].Fees);
            Assert.Equal(counted.Where(t => t.CommissionAsset == "BNB").Sum(t => Math.Max(-t.Commission, 0m)), totals.ByAsset["BNB"].Rebates);
            Assert.Equal(counted.Count(t => t.Side == FillSide.Sell && t.Liquidity == FillLiquidity.Maker), totals.Buckets[new("reconcile", FillSide.Sell, FillLiquidity.Maker)].Count);
        }

        var rows = await Ledger.AllAsync(Account);
        Assert.Equal(700, rows.Count);
        Assert.Equal(D("97000.1"), rows.Single(row => row.Trade.Id == 400).Trade.Price);
        Assert.Equal(FillFeeder.Rescan, rows.Single(row => row.Trade.Id == 501).FirstSeenBy);
        Assert.Equal(first.Count(t => mark.Covers(t.Id, t.Side)), rows.Count(row => row.PreLedger));
    }

    [Fact]
    public async Task Ledger_batches_of_several_insert_statements_count_exactly_new_rows_wherever_duplicates_fall()
    {
        // The SQLite ledger inserts at most RowsPerInsert rows per statement (a remainder in powers of two); the first
        // batch is exactly two full statements, the second mixes stored and new keys inside and across statements.
        const int Chunk = SqliteFillLedger.RowsPerInsert;
        static FillSide SideOf(long id) => id % 3 == 0 ? FillSide.Sell : FillSide.Buy;
        static FillSide Other(FillSide side) => side == FillSide.Buy ? FillSide.Sell : FillSide.Buy;
        static ParsedTrade Row(string symbol, long id, FillSide side, string price = "97000.1") => Trade(symbol, id, side,
            price: price, qty: $"0.00{id % 9 + 1}", commission: id % 7 == 0 ? "-0.00000011" : "0.0123", asset: id % 11 == 0 ? "BNB" : "USDT",
            liquidity: id % 2 == 0 ? FillLiquidity.Maker : FillLiquidity.Taker, timeOffsetMs: id);
        static List<FillKey> InKeyOrder(IEnumerable<ParsedTrade> trades) => trades.Select(Key)
            .OrderBy(key => key.Symbol, StringComparer.Ordinal).ThenBy(key => key.TradeId).ThenBy(key => key.Side).ToList();
        var mark = new LegacyMark("ETHUSDT", 100, BuyCounted: true, SellCounted: false);
        await Ledger.ImportLegacyAsync(
            new LegacyImport(Account, "reconcile", new Dictionary<TotalsBucket, FillTotals>(), new Dictionary<string, AssetTotals>(StringComparer.Ordinal), [mark]),
            CancellationToken.None);

        var first = Enumerable.Range(1, 2 * Chunk).Select(i => Row("BTCUSDT", i, SideOf(i))).ToList();
        var firstBatch = Enumerable.Reverse(first)
            .Append(Row("BTCUSDT", 10, SideOf(10)))
            .Append(Row("BTCUSDT", Chunk + 88, SideOf(Chunk + 88), price: "1.5"))
            .ToArray();
        var firstResult = await Ledger.AppendAsync(Batch(Account, FillFeeder.Poll, firstBatch), CancellationToken.None);

        Assert.Equal(InKeyOrder(first), firstResult.Inserted);
        Assert.Empty(firstResult.PreLedger);
        Assert.Equal([Key(first[Chunk + 87])], firstResult.Mismatched);
        Assert.Equal(2 * Chunk, firstResult.Totals.Count);

        // BTCUSDT: from id 700 on, each stored row next to its other side (new), then new ids up to 1300 (one run of
        // more than a statement); ETHUSDT: a full statement's worth of new rows and a self-trade, some of them covered
        // by the legacy mark. One stored row comes again with another price, one new row twice, once with another price.
        var storedAgain = Enumerable.Range(700, (2 * Chunk) - 699).Select(i => Row("BTCUSDT", i, SideOf(i))).ToList();
        var newBtc = Enumerable.Range(700, (2 * Chunk) - 699).Select(i => Row("BTCUSDT", i, Other(SideOf(i))))
            .Concat(Enumerable.Range((2 * Chunk) + 1, 1300 - (2 * Chunk)).Select(i => Row("BTCUSDT", i, SideOf(i))))
            .ToList();
        var newEth = Enumerable.Range(1, Chunk).Select(i => Row("ETHUSDT", i, SideOf(i))).Append(Row("ETHUSDT", 7, FillSide.Sell)).ToList();
        var secondBatch = storedAgain.Concat(newBtc).Concat(newEth)
            .Append(Row("BTCUSDT", 800, SideOf(800), price: "2.5"))
            .Append(Row("BTCUSDT", 1100, SideOf(1100)))
            .Append(Row("BTCUSDT", 1200, SideOf(1200), price: "3.5"))
            .OrderBy(trade => (trade.Id * 7919) % 1009)
            .ToArray();
        var secondResult = await Ledger.AppendAsync(Batch(Account, FillFeeder.Rescan, secondBatch), CancellationToken.None);

        var added = newBtc.Concat(newEth).ToList();
        var counted = first.Concat(added.Where(t => !(t.Symbol == mark.Symbol && mark.Covers(t.Id, t.Side)))).ToList();
        Assert.Equal(InKeyOrder(added.Where(t => !(t.Symbol == mark.Symbol && mark.Covers(t.Id, t.Side)))), secondResult.Inserted);
        Assert.Equal(InKeyOrder(newEth.Where(t => mark.Covers(t.Id, t.Side))), secondResult.PreLedger);
        Assert.Equal([Key(Row("BTCUSDT", 800, SideOf(800))), Key(Row("BTCUSDT", 1200, SideOf(1200)))], secondResult.Mismatched);
        foreach (var totals in new[] { secondResult.Totals, await Ledger.GetTotalsAsync(Account, CancellationToken.None) })
        {
            Assert.Equal(counted.Count, totals.Count);
            Assert.Equal(counted.Count - first.Count, totals.Recovered);
            Assert.Equal(counted.Sum(t => t.Qty * t.Price), totals.Buckets.Values.Sum(b => b.Notional));
            foreach (var asset in new[] { "USDT", "BNB" })
            {
                Assert.Equal(new AssetTotals(
                    counted.Where(t => t.CommissionAsset == asset).Sum(t => Math.Max(t.Commission, 0m)),
                    counted.Where(t => t.CommissionAsset == asset).Sum(t => Math.Max(-t.Commission, 0m))), totals.ByAsset[asset]);
            }

            Assert.Equal(counted.Count(t => t.Side == FillSide.Sell && t.Liquidity == FillLiquidity.Taker), totals.Buckets[new("reconcile", FillSide.Sell, FillLiquidity.Taker)].Count);
        }

        // Every row once, with its first-seen values and feeder.
        var rows = await Ledger.AllAsync(Account);
        var expected = first.Select(t => (t, FillFeeder.Poll, false))
            .Concat(added.Select(t => (t, FillFeeder.Rescan, t.Symbol == mark.Symbol && mark.Covers(t.Id, t.Side))))
            .OrderBy(row => row.t.TimeMs).ThenBy(row => row.t.Symbol, StringComparer.Ordinal).ThenBy(row => row.t.Id).ThenBy(row => row.t.Side)
            .ToList();
        Assert.Equal(expected, rows.Select(row => (row.Trade, row.FirstSeenBy, row.PreLedger)));
    }

    [Fact]
    public async Task Ledger_concurrent_page_sized_appends_of_overlapping_rows_count_each_row_once()
    {
        var second = await TrackAsync(OpenSecondWriterAsync());
        var trades = Enumerable.Range(1, 1200).Select(i => Trade("BTCUSDT", i, i % 3 == 0 ? FillSide.Sell : FillSide.Buy, timeOffsetMs: i)).ToList();
        var start = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var writers = Enumerable.Range(0, 4).Select(writer => Task.Run(async () =>
        {
            await start.Task;
            var ledger = writer % 2 == 0 ? Ledger : second;
            var results = new List<LedgerAppendResult>();
            var ordered = writer < 2 ? trades : Enumerable.Reverse(trades).ToList();
            foreach (var chunk in ordered.Chunk(300 + writer * 50))
            {
                results.Add(await ledger.AppendAsync(Batch(Account, FillFeeder.Poll, chunk), CancellationToken.None));
            }

            return results;
        })).ToList();
        start.SetResult();
        var all = (await Task.WhenAll(writers)).SelectMany(results => results).ToList();

        var insertedKeys = all.SelectMany(result => result.Inserted).ToList();
        Assert.Equal(trades.Count, insertedKeys.Count);
        Assert.Equal(trades.Select(Key).ToHashSet(), insertedKeys.ToHashSet());
        Assert.Equal(trades.Count, (await Ledger.GetTotalsAsync(Account, CancellationToken.None)).Count);
        Assert.Equal(trades.Count, (await Ledger.AllAsync(Account)).Count);
    }

    [Fact]
    public async Task Ledger_concurrent_appends_of_overlapping_rows_from_two_writers_count_each_row_once()
    {
        var second = await TrackAsync(OpenSecondWriterAsync());
        var trades = Enumerable.Range(1, 400)
            .Select(i => Trade(i % 2 == 0 ? "BTCUSDT" : "ETHUSDT", i, i % 3 == 0 ? FillSide.Sell : FillSide.Buy,
                price: $"{100 + i}.25", qty: $"0.00{i % 9 + 1}", commission: i % 5 == 0 ? "-0.0001" : "0.00000001", timeOffsetMs: i))
            .ToList();
        var start = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var writers = Enumerable.Range(0, 8).Select(writer => Task.Run(async () =>
        {
            await start.Task;
            var ledger = writer % 2 == 0 ? Ledger : second;
            var results = new List<LedgerAppendResult>();
            // Each writer appends every row, in its own order and batch size, so most rows race between writers.
            var shuffled = trades.OrderBy(trade => (trade.Id * (writer + 3)) % 97).ToList();
            foreach (var chunk in shuffled.Chunk(40 + writer * 7))
            {
                results.Add(await ledger.AppendAsync(Batch(Account, FillFeeder.Poll, chunk), CancellationToken.None));
            }

            return results;
        })).ToList();
        start.SetResult();
        var all = (await Task.WhenAll(writers)).SelectMany(results => results).ToList();

        var insertedKeys = all.SelectMany(result => result.Inserted).ToList();
        Assert.Equal(trades.Count, insertedKeys.Count);
        Assert.Equal(trades.Select(Key).ToHashSet(), insertedKeys.ToHashSet());
        Assert.All(all, result => Assert.Empty(result.Mismatched));

        var totals = await Ledger.GetTotalsAsync(Account, CancellationToken.None);
        Assert.Equal(trades.Count, totals.Count);
        Assert.Equal(trades.Sum(trade => trade.Qty * trade.Price), totals.Buckets.Values.Sum(bucket => bucket.Notional));
        Assert.Equal(trades.Where(t => t.Commission > 0).Sum(t => t.Commission), totals.ByAsset["USDT"].Fees);
        Assert.Equal(trades.Where(t => t.Commission < 0).Sum(t => -t.Commission), totals.ByAsset["USDT"].Rebates);
        Assert.Equal(trades.Count, (await Ledger.AllAsync(Account)).Count);
    }

    [Fact]
    public async Task Ledger_a_self_trade_records_both_sides_of_one_trade_id()
    {
        var buy = Trade("BTCUSDT", 77, FillSide.Buy, liquidity: FillLiquidity.Maker, commission: "-0.002");
        var sell = Trade("BTCUSDT", 77, FillSide.Sell, liquidity: FillLiquidity.Taker, commission: "0.004");

        await Ledger.AppendAsync(Batch(Account, FillFeeder.Poll, buy), CancellationToken.None);
        var result = await Ledger.AppendAsync(Batch(Account, FillFeeder.Poll, sell, buy), CancellationToken.None);

        Assert.Equal([Key(sell)], result.Inserted);
        Assert.Equal(1, result.Totals.Buckets[new TotalsBucket("reconcile", FillSide.Buy, FillLiquidity.Maker)].Count);
        Assert.Equal(1, result.Totals.Buckets[new TotalsBucket("reconcile", FillSide.Sell, FillLiquidity.Taker)].Count);
        var rows = await Ledger.AllAsync(Account);
        Assert.Equal([buy, sell], rows.Select(row => row.Trade));
    }

    [Fact]
    public async Task Ledger_totals_are_exact_per_bucket_asset_and_recovered()
    {
        var trades = new[]
        {
            Trade("BTCUSDT", 1, FillSide.Buy, price: "97000.1", qty: "0.00000001", commission: "0.00000001", liquidity: FillLiquidity.Taker),
            Trade("BTCUSDT", 2, FillSide.Buy, price: "97000.2", qty: "0.003", commission: "-0.00000003", liquidity: FillLiquidity.Maker),
            Trade("BTCUSDT", 3, FillSide.Sell, price: "0.1", qty: "0.2", commission: "0.0000001", asset: "BNB", liquidity: FillLiquidity.Maker),
            Trade("ETHUSDT", 3, FillSide.Buy, price: "3000.01", qty: "1.1", commission: "0", liquidity: FillLiquidity.Taker),
        };
        var recovered = Trade("ETHUSDT", 4, FillSide.Buy, price: "3000", qty: "0.1", commission: "0.03", liquidity: FillLiquidity.Taker);

        await Ledger.AppendAsync(Batch(Account, FillFeeder.Poll, trades), CancellationToken.None);
        var result = await Ledger.AppendAsync(Batch(Account, FillFeeder.Rescan, recovered), CancellationToken.None);

        var expected = new Dictionary<TotalsBucket, FillTotals>
        {
            // 97000.1 * 0.00000001 + 3000.01 * 1.1 + 3000 * 0.1
            [new("reconcile", FillSide.Buy, FillLiquidity.Taker)] = new(3, D("0.000970001") + D("3300.011") + D("300"), D("0.00000001") + D("0.03"), 0m),
            [new("reconcile", FillSide.Buy, FillLiquidity.Maker)] = new(1, D("291.0006"), 0m, D("0.00000003")),
            [new("reconcile", FillSide.Sell, FillLiquidity.Maker)] = new(1, D("0.02"), D("0.0000001"), 0m),
        };
        foreach (var totals in new[] { result.Totals, await Ledger.GetTotalsAsync(Account, CancellationToken.None) })
        {
            Assert.Equal(expected.OrderBy(p => p.Key.ToString()), totals.Buckets.OrderBy(p => p.Key.ToString()));
            Assert.Equal(new AssetTotals(D("0.03000001"), D("0.00000003")), totals.ByAsset["USDT"]);
            Assert.Equal(new AssetTotals(D("0.0000001"), 0m), totals.ByAsset["BNB"]);
            Assert.Equal(1, totals.Recovered);
            Assert.Equal(5, totals.Count);
        }
    }

    [Fact]
    public async Task Ledger_legacy_import_happens_once_and_rows_it_covers_are_recorded_but_not_counted_again()
    {
        var legacyBucket = new TotalsBucket("reconcile", FillSide.Buy, FillLiquidity.Taker);
        var import = new LegacyImport(
            Account,
            "reconcile",
            new Dictionary<TotalsBucket, FillTotals> { [legacyBucket] = new(10, D("1000.5"), D("0.5"), D("0.25")) },
            new Dictionary<string, AssetTotals> { ["USDT"] = new(D("0.5"), D("0.25")) },
            [new LegacyMark("BTCUSDT", 100, BuyCounted: true, SellCounted: false)]);

        var imported = await Ledger.ImportLegacyAsync(import, CancellationToken.None);
        Assert.Equal(10, imported.Count);
        var again = await Ledger.ImportLegacyAsync(
            import with { Buckets = new Dictionary<TotalsBucket, FillTotals> { [legacyBucket] = new(99, 9m, 9m, 9m) }, Marks = [] },
            CancellationToken.None);
        Assert.Equal(10, again.Count);
        Assert.Equal(D("1000.5"), again.Buckets[legacyBucket].Notional);

        var below = Trade("BTCUSDT", 99, FillSide.Sell, commission: "0.01");
        var atMarkCounted = Trade("BTCUSDT", 100, FillSide.Buy, commission: "0.01");
        var atMarkNotCounted = Trade("BTCUSDT", 100, FillSide.Sell, commission: "0.02");
        var above = Trade("BTCUSDT", 101, FillSide.Buy, commission: "0.03");
        var otherSymbol = Trade("ETHUSDT", 5, FillSide.Buy, commission: "0.04");
        var result = await Ledger.AppendAsync(Batch(Account, FillFeeder.Poll, below, atMarkCounted, atMarkNotCounted, above, otherSymbol), CancellationToken.None);

        Assert.Equal([Key(below), Key(atMarkCounted)], result.PreLedger);
        Assert.Equal([Key(atMarkNotCounted), Key(above), Key(otherSymbol)], result.Inserted);
        Assert.Equal(13, result.Totals.Count);
        Assert.Equal(new AssetTotals(D("0.59"), D("0.25")), result.Totals.ByAsset["USDT"]);

        var rows = await Ledger.AllAsync(Account);
        Assert.Equal(5, rows.Count);
        Assert.Equal(
            [Key(below), Key(atMarkCounted)],
            rows.Where(row => row.PreLedger).Select(row => Key(row.Trade)).OrderBy(key => key.TradeId).ThenBy(key => key.Side));

        // A pre-ledger row appended again is neither inserted nor counted again.
        var repeat = await Ledger.AppendAsync(Batch(Account, FillFeeder.Rescan, below), CancellationToken.None);
        Assert.Empty(repeat.PreLedger);
        Assert.Empty(repeat.Inserted);
        Assert.Equal(13, repeat.Totals.Count);
        Assert.Equal(0, repeat.Totals.Recovered);
    }

    [Fact]
    public async Task Ledger_two_concurrent_legacy_imports_of_one_account_carry_its_counters_in_once()
    {
        var second = await TrackAsync(OpenSecondWriterAsync());
        var bucket = new TotalsBucket("reconcile", FillSide.Sell, FillLiquidity.Taker);
        var import = new LegacyImport(Account, "reconcile",
            new Dictionary<TotalsBucket, FillTotals> { [bucket] = new(21, D("2100.00000001"), D("0.21"), 0m) },
            new Dictionary<string, AssetTotals> { ["USDT"] = new(D("0.21"), 0m) },
            [new LegacyMark("BTCUSDT", 500, true, false), new LegacyMark("ETHUSDT", 7, false, true)]);
        var start = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);

        var imports = Enumerable.Range(0, 4)
            .Select(i => Task.Run(async () =>
            {
                await start.Task;
                return await (i % 2 == 0 ? Ledger : second).ImportLegacyAsync(import, CancellationToken.None);
            }))
            .ToList();
        start.SetResult();
        await Task.WhenAll(imports);

        var totals = await Ledger.GetTotalsAsync(Account, CancellationToken.None);
        Assert.Equal(new FillTotals(21, D("2100.00000001"), D("0.21"), 0m), Assert.Single(totals.Buckets).Value);
        Assert.Equal(new AssetTotals(D("0.21"), 0m), Assert.Single(totals.ByAsset).Value);
    }

    [Fact]
    public async Task Ledger_a_row_seen_again_with_other_amounts_is_reported_and_keeps_its_first_values()
    {
        var original = Trade("BTCUSDT", 5, price: "100.5", commission: "0.01");
        var changed = original with { Commission = D("0.02") };
        var sameAmountOtherScale = original with { Price = D("100.50") };
        var other = Trade("BTCUSDT", 6, timeOffsetMs: 1);
        var otherChanged = other with { CommissionAsset = "BNB" };

        await Ledger.AppendAsync(Batch(Account, FillFeeder.Poll, original), CancellationToken.None);
        var result = await Ledger.AppendAsync(Batch(Account, FillFeeder.Rescan, changed, other, otherChanged), CancellationToken.None);
        var unchanged = await Ledger.AppendAsync(Batch(Account, FillFeeder.Poll, sameAmountOtherScale), CancellationToken.None);

        Assert.Equal([Key(other)], result.Inserted);
        Assert.Equal([Key(original), Key(other)], result.Mismatched.OrderBy(key => key.TradeId));
        Assert.Empty(unchanged.Mismatched);
        var rows = await Ledger.AllAsync(Account);
        Assert.Equal([original, other], rows.Select(row => row.Trade));
        Assert.Equal(FillFeeder.Poll, rows[0].FirstSeenBy);
        Assert.Equal(new AssetTotals(D("0.02"), 0m), result.Totals.ByAsset["USDT"]);
        Assert.False(result.Totals.ByAsset.ContainsKey("BNB"));
    }

    [Fact]
    public async Task Ledger_paging_with_after_returns_every_row_exactly_once_in_order()
    {
        // Many rows share a trade time (and a self-trade shares an id), so the page key needs all four columns.
        var trades = Enumerable.Range(0, 57)
            .SelectMany(i => i % 10 == 0
                ? new[] { Trade("BTCUSDT", i, FillSide.Buy, timeOffsetMs: i / 4), Trade("BTCUSDT", i, FillSide.Sell, timeOffsetMs: i / 4) }
                : new[] { Trade(i % 3 == 0 ? "ETHUSDT" : i % 3 == 1 ? "BTCUSDT" : "1000PEPEUSDT", i, timeOffsetMs: i / 4) })
            .ToList();
        await Ledger.AppendAsync(Batch(Account, FillFeeder.Poll, trades.Take(30).ToArray()), CancellationToken.None);
        await Ledger.AppendAsync(Batch(Account, FillFeeder.Poll, trades.Skip(30).ToArray()), CancellationToken.None);

        var paged = new List<LedgerRow>();
        FillPageKey? after = null;
        for (var page = 0; page < 100; page++)
        {
            var rows = await Ledger.AllAsync(new FillQuery(Account, null, null, null, after, 7));
            Assert.True(rows.Count <= 7);
            paged.AddRange(rows);
            if (rows.Count < 7)
            {
                break;
            }

            after = rows[^1].PageKey;
        }

        var expected = trades
            .OrderBy(t => t.TimeMs).ThenBy(t => t.Symbol, StringComparer.Ordinal).ThenBy(t => t.Id).ThenBy(t => t.Side)
            .ToList();
        Assert.Equal(expected, paged.Select(row => row.Trade));
        Assert.Equal(expected, (await Ledger.AllAsync(Account)).Select(row => row.Trade));
    }

    [Fact]
    public async Task Ledger_queries_filter_by_symbol_and_trade_time_from_inclusive_to_exclusive()
    {
        var trades = Enumerable.Range(0, 20)
            .Select(i => Trade(i % 2 == 0 ? "BTCUSDT" : "ETHUSDT", i, timeOffsetMs: i * 1000))
            .ToArray();
        await Ledger.AppendAsync(Batch(Account, FillFeeder.Poll, trades), CancellationToken.None);
        await Ledger.AppendAsync(Batch("other" + Account, FillFeeder.Poll, trades), CancellationToken.None);

        var window = await Ledger.AllAsync(new FillQuery(Account, null, T0 + 5000, T0 + 9000, null, null));
        Assert.Equal([5L, 6, 7, 8], window.Select(row => row.Trade.Id));

        var eth = await Ledger.AllAsync(new FillQuery(Account, "ETHUSDT", T0 + 5000, null, null, null));
        Assert.Equal([5L, 7, 9, 11, 13, 15, 17, 19], eth.Select(row => row.Trade.Id));

        var btcLimited = await Ledger.AllAsync(new FillQuery(Account, "BTCUSDT", null, T0 + 10_000, null, 3));
        Assert.Equal([0L, 2, 4], btcLimited.Select(row => row.Trade.Id));

        Assert.Empty(await Ledger.AllAsync(new FillQuery(Account, "XRPUSDT", null, null, null, null)));
        Assert.Empty(await Ledger.AllAsync(new FillQuery(Account, null, T0 + 5000, T0 + 5000, null, null)));
        Assert.Empty(await Ledger.AllAsync("nobody" + Account));
    }

    [Fact]
    public async Task Ledger_summary_gives_exact_per_symbol_quantities_notional_pnl_fees_and_rebates()
    {
        await Ledger.AppendAsync(Batch(Account, FillFeeder.Poll,
            Trade("BTCUSDT", 1, FillSide.Buy, price: "97000.1", qty: "0.00000001", commission: "0.00000001", realizedPnl: "0"),
            Trade("BTCUSDT", 2, FillSide.Sell, price: "97100", qty: "0.003", commission: "-0.00000003", realizedPnl: "0.30000001", timeOffsetMs: 10),
            Trade("BTCUSDT", 3, FillSide.Sell, price: "97200", qty: "0.001", commission: "0.0001", asset: "BNB", realizedPnl: "-0.1", timeOffsetMs: 20),
            Trade("ETHUSDT", 9, FillSide.Buy, price: "3000.01", qty: "1.1", commission: "0.5", realizedPnl: "0", timeOffsetMs: 30),
            Trade("ETHUSDT", 10, FillSide.Buy, price: "3000", qty: "2", commission: "0.1", realizedPnl: "12", timeOffsetMs: 40_000)), CancellationToken.None);

        var summary = await Ledger.SummarizeAsync(Account, null, null, CancellationToken.None);

        Assert.Equal(["BTCUSDT", "ETHUSDT"], summary.Select(s => s.Symbol));
        var btc = summary[0];
        Assert.Equal(3, btc.Fills);
        Assert.Equal(D("0.00000001"), btc.BuyQty);
        Assert.Equal(D("0.004"), btc.SellQty);
        Assert.Equal(D("0.000970001"), btc.BuyNotional);
        Assert.Equal(D("291.3") + D("97.2"), btc.SellNotional);
        Assert.Equal(D("0.20000001"), btc.RealizedPnl);
        Assert.Equal(new AssetTotals(D("0.00000001"), D("0.00000003")), btc.ByAsset["USDT"]);
        Assert.Equal(new AssetTotals(D("0.0001"), 0m), btc.ByAsset["BNB"]);
        var eth = summary[1];
        Assert.Equal(2, eth.Fills);
        Assert.Equal(D("3.1"), eth.BuyQty);
        Assert.Equal(0m, eth.SellQty);
        Assert.Equal(D("9300.011"), eth.BuyNotional);
        Assert.Equal(0m, eth.SellNotional);
        Assert.Equal(12m, eth.RealizedPnl);
        Assert.Equal(new AssetTotals(D("0.6"), 0m), Assert.Single(eth.ByAsset).Value);

        var early = await Ledger.SummarizeAsync(Account, T0 + 10, T0 + 40_000, CancellationToken.None);
        Assert.Equal([("BTCUSDT", 2L), ("ETHUSDT", 1L)], early.Select(s => (s.Symbol, s.Fills)));
        Assert.Empty(await Ledger.SummarizeAsync("nobody" + Account, null, null, CancellationToken.None));
    }

    [Fact]
    public async Task Ledger_rows_and_totals_survive_reopening_the_store()
    {
        var legacy = new LegacyImport(Account, "reconcile",
            new Dictionary<TotalsBucket, FillTotals> { [new("reconcile", FillSide.Sell, FillLiquidity.Maker)] = new(4, 40m, 0m, D("0.4")) },
            new Dictionary<string, AssetTotals> { ["USDT"] = new(0m, D("0.4")) },
            [new LegacyMark("BTCUSDT", 10, true, true)]);
        await Ledger.ImportLegacyAsync(legacy, CancellationToken.None);
        var trades = new[] { Trade("BTCUSDT", 11, commission: "0.00000001"), Trade("BTCUSDT", 12, FillSide.Sell, commission: "-0.5", timeOffsetMs: 1) };
        var before = await Ledger.AppendAsync(Batch(Account, FillFeeder.Rescan, trades), CancellationToken.None);
        var rowsBefore = await Ledger.AllAsync(Account);
        await CloseAsync(Ledger);
        _opened.Remove(Ledger);

        var reopened = await TrackAsync(OpenAsync());
        var totals = await reopened.GetTotalsAsync(Account, CancellationToken.None);
        Assert.Equal(before.Totals.Buckets.OrderBy(p => p.Key.ToString()), totals.Buckets.OrderBy(p => p.Key.ToString()));
        Assert.Equal(before.Totals.ByAsset.OrderBy(p => p.Key), totals.ByAsset.OrderBy(p => p.Key));
        Assert.Equal(2, totals.Recovered);
        Assert.Equal(6, totals.Count);
        Assert.Equal(rowsBefore, await reopened.AllAsync(Account));

        // The marks and the import record survived too: covered rows stay uncounted, the import is not repeated.
        var covered = await reopened.AppendAsync(Batch(Account, FillFeeder.Poll, Trade("BTCUSDT", 9)), CancellationToken.None);
        Assert.Single(covered.PreLedger);
        Assert.Equal(6, (await reopened.ImportLegacyAsync(legacy, CancellationToken.None)).Count);
    }

    [Fact]
    public async Task Ledger_texts_are_stored_as_given_empty_ones_too()
    {
        // The parser never hands over an empty asset or position side, but the ledger stores what it is given.
        var trade = Trade("BTCUSDT", 1, asset: "", positionSide: "");

        var result = await Ledger.AppendAsync(Batch(Account, FillFeeder.Poll, trade), CancellationToken.None);
        var again = await Ledger.AppendAsync(Batch(Account, FillFeeder.Poll, trade), CancellationToken.None);

        Assert.Equal([Key(trade)], result.Inserted);
        Assert.Empty(again.Mismatched);
        Assert.Equal([trade], (await Ledger.AllAsync(Account)).Select(row => row.Trade));
    }

    [Fact]
    public async Task Ledger_an_empty_batch_records_nothing_and_returns_the_current_totals()
    {
        await Ledger.AppendAsync(Batch(Account, FillFeeder.Poll, Trade("BTCUSDT", 1)), CancellationToken.None);

        var result = await Ledger.AppendAsync(Batch(Account, FillFeeder.Poll), CancellationToken.None);

        Assert.Empty(result.Inserted);
        Assert.Equal(1, result.Totals.Count);
        Assert.Equal(AccountTotals.Empty.Count, (await Ledger.GetTotalsAsync("nobody" + Account, CancellationToken.None)).Count);
        await Ledger.PingAsync(CancellationToken.None);
    }

    private async Task<IFillLedger> TrackAsync(Task<IFillLedger> opening)
    {
        var ledger = await opening;
        _opened.Add(ledger);
        return ledger;
    }
}
