using Grinder.Grains.Ingest;

namespace Grinder.Tests.Ingest;

/// <summary>The reconciliation round without a cluster: how long it is for a number of pairs, and when a pair is read.</summary>
public sealed class ReconcileScheduleTests
{
    [Fact]
    public void A_round_is_the_interval_until_the_pairs_need_more_weight_than_the_share_allows()
    {
        // 1,200 a minute for the silo, half of it for reconciliation: 120 reads of weight 5 a minute.
        Assert.Equal(TimeSpan.FromMinutes(1), ReconcileSchedule.RoundLength(100, 1_200, 0.5, TimeSpan.FromMinutes(1)));
        Assert.Equal(TimeSpan.FromSeconds(500), ReconcileSchedule.RoundLength(1_000, 1_200, 0.5, TimeSpan.FromMinutes(1)));
    }

    [Fact]
    public void A_pair_is_due_after_a_round_and_overdue_a_quarter_round_later()
    {
        var round = TimeSpan.FromSeconds(500);
        Assert.Equal(ReconcileUrgency.NotDue, ReconcileSchedule.Urgency(499_999, round));
        Assert.Equal(ReconcileUrgency.Due, ReconcileSchedule.Urgency(500_000, round));
        Assert.Equal(ReconcileUrgency.Due, ReconcileSchedule.Urgency(624_999, round));
        Assert.Equal(ReconcileUrgency.Overdue, ReconcileSchedule.Urgency(625_000, round));
    }

    [Fact]
    public void The_round_follows_the_pairs_accounts_report()
    {
        var schedule = new ReconcileSchedule();
        schedule.Report("a", 10);
        schedule.Report("b", 990);
        Assert.Equal(1_000, schedule.StreamingPairs);
        schedule.Report("b", 0);
        Assert.Equal(10, schedule.StreamingPairs);
    }
}
