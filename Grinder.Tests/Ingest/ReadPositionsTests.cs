using Grinder.Grains;
using Grinder.Grains.Binance;
using Grinder.Grains.Ingest;
using Grinder.Grains.Ledger;

namespace Grinder.Tests.Ingest;

/// <summary>The read-position rules without a cluster: what a fetch changes, when a symbol is re-scanned, the monotonic rule, the upgrade.</summary>
public sealed class ReadPositionsTests
{
    private static readonly TimeSpan Interval = TimeSpan.FromMinutes(1);
    private static readonly TimeSpan Window = TimeSpan.FromMinutes(10);

    private static FetchResult Fetched(long? lastId, long lastTime, bool inclusive = false, long? bootstrapFrom = null) =>
        new([], [], new FetchPosition(lastId, lastTime, bootstrapFrom, inclusive), null, null, 1);

    [Fact]
    public void A_fetch_that_reads_a_higher_id_moves_the_position_and_stamps_when()
    {
        var cursor = new SymbolCursor(100, 5_000, null, false, LastMovedAtMs: 1_000, ReadHighWaterId: 100);

        var next = ReadPositions.Advance(cursor, Fetched(120, 6_000, inclusive: true), nowMs: 50_000);

        Assert.Equal(120, next.LastTradeId);
        Assert.Equal(6_000, next.LastTsMs);
        Assert.True(next.ResumeInclusive);
        Assert.Equal(50_000, next.LastMovedAtMs);
        Assert.Equal(120, next.ReadHighWaterId);
    }

    [Fact]
    public void A_quiet_fetch_keeps_the_time_the_position_last_moved()
    {
        var cursor = new SymbolCursor(100, 5_000, null, false, LastMovedAtMs: 1_000, ReadHighWaterId: 100);

        var next = ReadPositions.Advance(cursor, Fetched(100, 5_000), nowMs: 50_000);

        Assert.Equal(1_000, next.LastMovedAtMs);
    }

    [Fact]
    public void Only_a_symbol_whose_position_moved_within_the_window_is_re_scanned_once_per_interval()
    {
        var now = 10_000_000L;
        var quiet = new SymbolCursor(100, 0, null, false, LastMovedAtMs: now - (long)Window.TotalMilliseconds - 1);
        var active = new SymbolCursor(100, 0, null, false, LastMovedAtMs: now - 1_000);
        var neverMoved = SymbolCursor.Fresh(0);

        Assert.Null(ReadPositions.RescanDue(quiet, now, Interval, Window));
        Assert.Null(ReadPositions.RescanDue(neverMoved, now, Interval, Window));
        Assert.Equal(new RescanWindow(now - (long)Window.TotalMilliseconds, now), ReadPositions.RescanDue(active, now, Interval, Window));
        Assert.Null(ReadPositions.RescanDue(active with { LastRescanMs = now - 30_000 }, now, Interval, Window));
        Assert.NotNull(ReadPositions.RescanDue(active with { LastRescanMs = now - 60_000 }, now, Interval, Window));
    }

    [Fact]
    public void A_position_below_the_stored_one_is_not_written_unless_exempt()
    {
        var stored = new FillIngestState();
        stored.Symbols["BTCUSDT"] = new SymbolCursor(9_000_000_000, 0, null, false);
        stored.Symbols["ETHUSDT"] = new SymbolCursor(10, 0, null, false);
        var candidate = new FillIngestState();
        candidate.Symbols["BTCUSDT"] = new SymbolCursor(50, 7, null, false);
        candidate.Symbols["ETHUSDT"] = new SymbolCursor(11, 0, null, false);

        var rejected = ReadPositions.ApplyMonotonicRule(candidate, stored, new HashSet<string>());

        var rejection = Assert.Single(rejected);
        Assert.Equal("BTCUSDT", rejection.Symbol);
        Assert.Equal((9_000_000_000L, 0L), rejection.ExistingKey);
        Assert.Equal((50L, 7L), rejection.NewKey);
        Assert.Equal(9_000_000_000, candidate.Symbols["BTCUSDT"].LastTradeId);
        Assert.Equal(11, candidate.Symbols["ETHUSDT"].LastTradeId);

        var reset = new FillIngestState();
        reset.Symbols["BTCUSDT"] = SymbolCursor.Fresh(1);
        Assert.Empty(ReadPositions.ApplyMonotonicRule(reset, stored, new HashSet<string> { "BTCUSDT" }));
        Assert.Null(reset.Symbols["BTCUSDT"].LastTradeId);
    }

    [Fact]
    public void After_a_conflict_another_activations_position_is_taken_and_a_hand_moved_one_is_not()
    {
        var adopted = new FillIngestState();
        adopted.Symbols["BTCUSDT"] = new SymbolCursor(200, 0, null, false, ReadHighWaterId: 200); // the other activation
        adopted.Symbols["ETHUSDT"] = new SymbolCursor(9_000_000_000, 0, null, false, ReadHighWaterId: 40); // moved by hand
        var ours = new Dictionary<string, SymbolCursor>
        {
            ["BTCUSDT"] = new SymbolCursor(150, 0, null, false, ReadHighWaterId: 150),
            ["ETHUSDT"] = new SymbolCursor(45, 0, null, false, ReadHighWaterId: 45),
        };

        var handMoved = ReadPositions.Reconcile(adopted, ours);

        Assert.Equal(["ETHUSDT"], handMoved);
        Assert.Equal(200, adopted.Symbols["BTCUSDT"].LastTradeId);
        Assert.Equal(45, adopted.Symbols["ETHUSDT"].LastTradeId);
    }

    [Fact]
    public void A_state_of_the_previous_version_carries_its_counters_and_marks_into_the_ledger_and_then_reads_history_again()
    {
        var old = new FillIngestState();
        old.Fills["buy|taker"] = new FillTotals(3, 30m, 0.3m, 0m);
        old.Fills["sell|maker"] = new FillTotals(2, 20m, 0m, 0.02m);
        old.FeesByAsset["USDT"] = 0.3m;
        old.RebatesByAsset["BNB"] = 0.02m;
        old.Symbols["BTCUSDT"] = new SymbolCursor(77, 9_000, null, false, CountedHighWaterId: 75, CountedSidesAtHighWater: 1);
        old.Symbols["ETHUSDT"] = SymbolCursor.Fresh(1);
        Assert.True(ReadPositions.IsPreLedger(old));

        var import = ReadPositions.LegacyImportOf(old, "main", "reconcile");

        Assert.Equal(new FillTotals(3, 30m, 0.3m, 0m), import.Buckets[new TotalsBucket("reconcile", FillSide.Buy, FillLiquidity.Taker)]);
        Assert.Equal(new FillTotals(2, 20m, 0m, 0.02m), import.Buckets[new TotalsBucket("reconcile", FillSide.Sell, FillLiquidity.Maker)]);
        Assert.Equal(new AssetTotals(0.3m, 0m), import.ByAsset["USDT"]);
        Assert.Equal(new AssetTotals(0m, 0.02m), import.ByAsset["BNB"]);
        var mark = Assert.Single(import.Marks);
        Assert.Equal(new LegacyMark("BTCUSDT", 75, true, false), mark);
        Assert.True(mark.Covers(74, FillSide.Sell));
        Assert.True(mark.Covers(75, FillSide.Buy));
        Assert.False(mark.Covers(75, FillSide.Sell));
        Assert.False(mark.Covers(76, FillSide.Buy));

        ReadPositions.CompleteLegacyImport(old, rereadFromMs: 123);

        Assert.False(ReadPositions.IsPreLedger(old));
        Assert.Empty(old.Fills);
        Assert.Empty(old.FeesByAsset);
        Assert.Null(old.Symbols["BTCUSDT"].LastTradeId);
        Assert.Equal(123, old.Symbols["BTCUSDT"].BootstrapFromMs);
        Assert.Equal(77, old.Symbols["BTCUSDT"].ReadHighWaterId);
        Assert.Equal(-1, old.Symbols["BTCUSDT"].CountedHighWaterId);
    }

    [Fact]
    public void The_quarantine_counts_a_row_once_and_keeps_the_newest_up_to_its_limit()
    {
        var state = new FillIngestState();
        var counts = new UnsavedCounts();
        var rows = Enumerable.Range(1, 5).Select(i => new RejectedRow("BTCUSDT", i, i, "price: NaN", "{\"id\":" + i + "}")).ToList();

        Assert.Equal(5, Quarantine.Add(state, rows, limit: 3, nowMs: 1, counts).Count);
        Assert.Empty(Quarantine.Add(state, rows.Skip(3), limit: 3, nowMs: 2, counts));

        // Rows dropped from the list, read again (the re-scan reads every row of its window each time): not counted again.
        Assert.Empty(Quarantine.Add(state, rows, limit: 3, nowMs: 3, counts));

        Assert.Equal(5, counts.Current().Errors[ErrorReason.Parse]);
        Assert.Equal([3L, 4L, 5L], state.Quarantine.Select(row => row.TradeId!.Value));
        Assert.Equal(3, Quarantine.CountFor(state, "BTCUSDT"));
        Assert.Equal(0, Quarantine.CountFor(state, "ETHUSDT"));

        // The same id with another reason or raw text is another row.
        Assert.Single(Quarantine.Add(state, [rows[0] with { Reason = "qty: negative" }], limit: 3, nowMs: 4, counts));
    }

    [Fact]
    public void The_quarantine_remembers_a_bounded_number_of_dropped_rows_and_counts_older_ones_again()
    {
        var state = new FillIngestState();
        const int Limit = 2;
        var memory = Limit * Quarantine.DroppedMemory;
        var rows = Enumerable.Range(1, Limit + memory + 1).Select(i => new RejectedRow("ETHUSDT", i, i, "qty: negative", "{\"id\":" + i + "}")).ToList();

        var counts = new UnsavedCounts();
        Assert.Equal(rows.Count, Quarantine.Add(state, rows, Limit, nowMs: 1, counts).Count);

        Assert.Equal(memory, state.QuarantineDropped.Count);
        Assert.Equal([rows[0]], Quarantine.Add(state, rows, Limit, nowMs: 2, counts));
        Assert.Equal(rows.Count + 1, counts.Current().Errors[ErrorReason.Parse]);
    }

    [Fact]
    public void Fills_already_recorded_by_this_activation_do_not_go_to_the_ledger_again()
    {
        var recent = new RecentFills(TimeSpan.FromMinutes(11));
        var buy = new ParsedTrade("BTCUSDT", 7, 1, FillSide.Buy, FillLiquidity.Maker, 1m, 1m, 1m, 0m, 0m, "USDT", 1_000, "BOTH");
        var sell = buy with { Side = FillSide.Sell, Liquidity = FillLiquidity.Taker, TimeMs = 5 * 60_000 };

        Assert.Equal([buy, sell], recent.Unseen([buy, sell, buy]));
        recent.Remember([buy], nowMs: 2_000);

        Assert.Equal([sell], recent.Unseen([buy, sell]));
        // Keys are forgotten by trade time: a fill older than the re-scan window is not read again by it.
        recent.Remember([sell], nowMs: 1_000 + (long)TimeSpan.FromMinutes(12).TotalMilliseconds);
        Assert.Equal(1, recent.Count);
        Assert.Equal([buy], recent.Unseen([buy, sell]));
    }

    [Fact]
    public void After_a_conflict_rows_this_activation_quarantined_join_the_adopted_state_and_are_counted_once()
    {
        // The other writer listed row 1 (and counted it in its saved counters); this activation counted rows 1 and 9 pending.
        var adopted = new FillIngestState();
        Quarantine.Add(adopted, [new RejectedRow("BTCUSDT", 1, 1, "price: NaN", "{1}")], limit: 10, nowMs: 1, new UnsavedCounts());
        var ours = new FillIngestState();
        var pending = new UnsavedCounts();
        Quarantine.Add(ours, [new RejectedRow("BTCUSDT", 1, 1, "price: NaN", "{1}"), new RejectedRow("BTCUSDT", 9, 9, "qty: negative", "{9}")], limit: 10, nowMs: 2, pending);

        Assert.Equal(1, Quarantine.Merge(adopted, ours.Quarantine, written: [], limit: 10, pending));
        Assert.Equal([1L, 9L], adopted.Quarantine.Select(row => row.TradeId!.Value));

        // Row 1 is the other writer's count; row 9 stays pending here until this activation's next save carries it.
        Assert.Equal(1, pending.Current().Errors[ErrorReason.Parse]);
    }

    [Fact]
    public void Rows_this_activation_had_saved_are_not_taken_out_of_its_pending_counts_after_a_conflict()
    {
        var saved = new QuarantinedRow("BTCUSDT", 1, "price: NaN", "{1}", 1);
        var adopted = new FillIngestState { Quarantine = [saved] };
        var pending = new UnsavedCounts();
        pending.Error(ErrorReason.Parse);

        Assert.Equal(0, Quarantine.Merge(adopted, [saved], written: [saved], limit: 10, pending));
        Assert.Equal(1, pending.Current().Errors[ErrorReason.Parse]);
    }

    [Fact]
    public void A_re_scan_offers_only_rows_the_read_position_has_passed()
    {
        var row = new ParsedTrade("BTCUSDT", 10, 1, FillSide.Buy, FillLiquidity.Maker, 1m, 1m, 1m, 0m, 0m, "USDT", 1, "BOTH");
        var rows = new[] { row, row with { Id = 11 }, row with { Id = 12 } };

        Assert.Equal([10L, 11L], ReadPositions.PassedBy(new SymbolCursor(11, 0, null, false), rows).Select(t => t.Id));
        Assert.Empty(ReadPositions.PassedBy(SymbolCursor.Fresh(0), rows));
        Assert.Equal([12L], ReadPositions.Above(new SymbolCursor(11, 0, null, false), rows).Select(t => t.Id));
        Assert.Equal([10L, 11L, 12L], ReadPositions.Above(SymbolCursor.Fresh(0), rows).Select(t => t.Id));
    }

    [Fact]
    public void A_reconciliation_read_covers_the_position_and_the_re_scan_window_in_one_window_read()
    {
        var now = 10_000_000_000L;
        var week = TimeSpan.FromDays(7);
        var windowMs = (long)Window.TotalMilliseconds;

        // Position inside the re-scan window, no read before: the window reaches back a re-scan window from now.
        Assert.Equal(new RescanWindow(now - windowMs, now), ReadPositions.ReconcileWindow(new SymbolCursor(100, now - 1_000, null, false), now, now, Window, week));
        // The previous read was a round ago: the window reaches a re-scan window behind it, where a trade that read passed
        // without seeing it may have executed.
        Assert.Equal(new RescanWindow(now - 500_000 - windowMs, now), ReadPositions.ReconcileWindow(new SymbolCursor(100, now - 1_000, null, false), now, now - 500_000, Window, week));
        // Position older than that: the window reaches back to it, so nothing above it is skipped.
        Assert.Equal(new RescanWindow(now - 3_600_000, now), ReadPositions.ReconcileWindow(new SymbolCursor(100, now - 3_600_000, null, false), now, now - 500_000, Window, week));
        // No position yet, or one older than a window may span: read by id.
        Assert.Null(ReadPositions.ReconcileWindow(SymbolCursor.Fresh(0), now, now, Window, week));
        Assert.Null(ReadPositions.ReconcileWindow(new SymbolCursor(100, now - (long)week.TotalMilliseconds, null, false), now, now, Window, week));
    }

    [Fact]
    public void A_window_read_moves_the_position_to_its_highest_valid_row_and_a_full_page_hands_over_to_id_reads()
    {
        var row = new ParsedTrade("BTCUSDT", 90, 1, FillSide.Buy, FillLiquidity.Maker, 1m, 1m, 1m, 0m, 0m, "USDT", 500, "BOTH");
        var cursor = new SymbolCursor(100, 1_000, null, false, LastMovedAtMs: 7, ReadHighWaterId: 100);
        FetchResult Window(IReadOnlyList<ParsedTrade> trades, params RejectedRow[] rejected) =>
            new(trades, rejected, new FetchPosition(null, 0, 0, false), null, null, 1);

        var moved = ReadPositions.AdvanceByWindow(cursor, Window([row, row with { Id = 130, TimeMs = 1_300 }, row with { Id = 120, TimeMs = 1_200 }]), pageLimit: 1000, nowMs: 50_000);
        Assert.Equal((130L, 1_300L), moved.Key);
        Assert.Equal(50_000, moved.LastMovedAtMs);
        Assert.Equal(130, moved.ReadHighWaterId);
        Assert.False(moved.ResumeInclusive);

        // Only rows below the position, and a rejected row with a huge id: the position stays where it is.
        var kept = ReadPositions.AdvanceByWindow(cursor, Window([row], new RejectedRow("BTCUSDT", 9_000_000_000, 1_100, "price: NaN", "{}")), pageLimit: 1000, nowMs: 50_000);
        Assert.Equal(cursor, kept);

        // A full first page: the window may hold more rows than were read, so the next read goes on by id, inclusively.
        var full = ReadPositions.AdvanceByWindow(cursor, Window([row with { Id = 101 }, row with { Id = 102 }]), pageLimit: 2, nowMs: 50_000);
        Assert.Equal(102, full.LastTradeId);
        Assert.True(full.ResumeInclusive);
    }
}
