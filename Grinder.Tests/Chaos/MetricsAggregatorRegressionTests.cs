using Grinder.Grains;
using Grinder.Grains.Binance;
using Grinder.Grains.Metrics;

namespace Grinder.Tests.Chaos;

/// <summary>
/// What the chaos test found in <see cref="MetricsAggregator"/>, and the counting rule that fixed it, pinned down without a
/// cluster: every count is in the saved part or in one activation's pending part, never both, and a pending part leaves
/// only when a saved state marks it folded.
/// </summary>
public sealed class MetricsAggregatorRegressionTests
{
    [Fact]
    public void A_duplicate_activations_unsaved_load_is_kept_when_the_survivors_newer_saved_state_arrives()
    {
        var aggregator = new MetricsAggregator();

        // A duplicate activation loaded state version 5 (2 loads saved) and counted its own load, never saved.
        aggregator.Apply(Report(version: 5, polls: 100, loadsOk: 2, pending: Pending("dup", epoch: 1, sequence: 1, loadsOk: 1)));

        // The survivor's save (version 6) carried its own load only, and marks that fold.
        Assert.True(aggregator.Apply(Report(version: 6, polls: 101, loadsOk: 3, pending: Pending("survivor", 2, 1), folded: [new PendingFold("survivor", 1)])));
        var held = aggregator.Aggregate();
        Assert.Equal(4, held.CursorLoads[new(FillSource.Reconcile, CursorResult.Ok)]);
        Assert.Equal(101, held.Polls[FillSource.Reconcile]);
    }

    [Fact]
    public void Pending_counts_show_at_once_and_are_not_counted_again_when_the_save_that_carries_them_arrives()
    {
        var aggregator = new MetricsAggregator();
        aggregator.Apply(Report(version: 1, polls: 10, pending: Pending("a", 1, 1, polls: 2, saveErrors: 1)));
        Assert.Equal(12, aggregator.Aggregate().Polls[FillSource.Reconcile]);
        Assert.Equal(1, aggregator.Aggregate().CursorSaves[new(FillSource.Reconcile, CursorResult.Error)]);

        aggregator.Apply(Report(version: 2, polls: 12, saveErrors: 1, pending: Pending("a", 2, 2), folded: [new PendingFold("a", 1)]));
        Assert.Equal(12, aggregator.Aggregate().Polls[FillSource.Reconcile]);
        Assert.Equal(1, aggregator.Aggregate().CursorSaves[new(FillSource.Reconcile, CursorResult.Error)]);
        Assert.True(Assert.Single(aggregator.Pending["chaos-00"]).Counters.IsZero);
    }

    [Fact]
    public void A_save_whose_report_was_lost_is_recognised_by_its_fold_mark_in_the_next_activations_report()
    {
        var aggregator = new MetricsAggregator();
        aggregator.Apply(Report(version: 1, polls: 10, pending: Pending("a", 1, 1, polls: 3)));

        // Activation a saved version 2 (polls 13, marked) and died before reporting; b loaded version 2 and reports it.
        aggregator.Apply(Report(version: 2, polls: 13, pending: Pending("b", 1, 1, polls: 1), folded: [new PendingFold("a", 1)]));
        Assert.Equal(14, aggregator.Aggregate().Polls[FillSource.Reconcile]);

        // A late report of a, older than the fold, changes nothing.
        Assert.False(aggregator.Apply(Report(version: 1, polls: 12, pending: Pending("a", 1, 0, polls: 2))));
        Assert.Equal(14, aggregator.Aggregate().Polls[FillSource.Reconcile]);
    }

    [Fact]
    public void An_activation_that_died_before_saving_keeps_its_counts_and_load_errors_count_before_any_state()
    {
        var aggregator = new MetricsAggregator();
        aggregator.Apply(Report(version: 0, polls: 0, polling: false, pending: Pending("a", 1, 1, loadErrors: 3)));
        Assert.Equal(3, aggregator.Aggregate().CursorLoads[new(FillSource.Reconcile, CursorResult.Error)]);
        Assert.Equal(3, aggregator.Aggregate().Errors[new(FillSource.Reconcile, ErrorReason.Cursor)]);

        // b loads the state the previous version saved; a never saved its load errors, and they stay counted.
        aggregator.Apply(Report(version: 4, polls: 7, pending: Pending("b", 1, 1, loadsOk: 1)));
        Assert.Equal(3, aggregator.Aggregate().CursorLoads[new(FillSource.Reconcile, CursorResult.Error)]);
        Assert.Equal(1, aggregator.Aggregate().CursorLoads[new(FillSource.Reconcile, CursorResult.Ok)]);

        // An older version of the saved part is ignored.
        Assert.False(aggregator.Apply(Report(version: 3, polls: 99, pending: Pending("b", 1, 0))));
        Assert.Equal(7, aggregator.Aggregate().Polls[FillSource.Reconcile]);
    }

    [Fact]
    public void Many_dead_activations_are_summed_into_one_part_and_a_persisted_copy_restores_the_same_counters()
    {
        var aggregator = new MetricsAggregator();
        for (var i = 0; i < 20; i++)
        {
            aggregator.Apply(Report(version: 1, polls: 10, pending: Pending($"a{i}", 1, 1, polls: 1)));
        }

        Assert.Equal(30, aggregator.Aggregate().Polls[FillSource.Reconcile]);
        Assert.True(aggregator.Pending["chaos-00"].Count <= MetricsAggregator.MaxPendingPerAccount);

        var restored = new MetricsAggregator();
        foreach (var snapshot in aggregator.Accounts.Values)
        {
            restored.Apply(snapshot);
        }

        foreach (var (account, parts) in aggregator.Pending)
        {
            parts.ForEach(part => restored.ApplyPending(account, part));
        }

        Assert.Equal(30, restored.Aggregate().Polls[FillSource.Reconcile]);
    }

    [Fact]
    public void Fills_follow_the_ledger_reading_with_more_rows()
    {
        var aggregator = new MetricsAggregator();
        aggregator.Apply(Report(version: 2, polls: 1, fills: 41, pending: Pending("a", 1, 1)));
        aggregator.Apply(Report(version: 3, polls: 2, fills: 40, pending: Pending("b", 1, 1)));
        Assert.Equal(41, aggregator.Aggregate().Fills[new(FillSource.Reconcile, new(FillSide.Buy, FillLiquidity.Taker))].Count);
        Assert.Equal(2, aggregator.Aggregate().Polls[FillSource.Reconcile]);
    }

    private static PendingCounters Pending(string activation, long epoch, long sequence, long polls = 0, long loadsOk = 0, long loadErrors = 0, long saveErrors = 0)
    {
        var loads = new Dictionary<CursorResult, long>();
        if (loadsOk > 0)
        {
            loads[CursorResult.Ok] = loadsOk;
        }

        if (loadErrors > 0)
        {
            loads[CursorResult.Error] = loadErrors;
        }

        var errors = loadErrors > 0 ? new Dictionary<ErrorReason, long> { [ErrorReason.Cursor] = loadErrors } : [];
        var saves = saveErrors > 0 ? new Dictionary<CursorResult, long> { [CursorResult.Error] = saveErrors } : [];
        return new PendingCounters(activation, epoch, sequence, new HealthCounters(polls, errors, loads, saves, new Dictionary<StreamEventResult, long>(), 0));
    }

    /// <summary>A report: the saved part given here plus <paramref name="pending"/>, as the account adds them up.</summary>
    private static AccountSnapshot Report(long version, long polls, long loadsOk = 0, long saveErrors = 0, long fills = 40, bool polling = true, PendingCounters? pending = null, IReadOnlyList<PendingFold>? folded = null)
    {
        var saved = HealthCounters.Zero with
        {
            Polls = polls,
            CursorLoads = loadsOk > 0 ? new Dictionary<CursorResult, long> { [CursorResult.Ok] = loadsOk } : [],
            CursorSaves = saveErrors > 0 ? new Dictionary<CursorResult, long> { [CursorResult.Error] = saveErrors } : [],
        };
        var counted = pending is null ? saved : saved.Add(pending.Counters);
        var snapshot = new AccountSnapshot(
            "chaos-00",
            FillSource.Reconcile,
            version * 1_000_000,
            new Dictionary<FillBucket, FillTotals> { [new(FillSide.Buy, FillLiquidity.Taker)] = new(fills, fills * 100m, fills * 0.05m, 0m) },
            0,
            new Dictionary<ErrorReason, long>(),
            new Dictionary<CursorResult, long>(),
            new Dictionary<CursorResult, long>(),
            1_700_000_000_000 + version,
            polling).WithCounters(counted);
        return snapshot with { Pending = pending, Folded = folded ?? [] };
    }
}
