using Grinder.FakeBinance;
using Grinder.Grains;
using Grinder.Tests.Infrastructure;

namespace Grinder.Tests.Ingest;

/// <summary>What a correct ingest must have counted, computed independently from the fake exchange's own rows.</summary>
public static class IngestExpectations
{
    public static Dictionary<string, FillTotals> Totals(IEnumerable<FakeTrade> trades) =>
        trades
            .GroupBy(trade => $"{trade.Side.ToLowerInvariant()}|{(trade.Maker ? "maker" : "taker")}")
            .ToDictionary(
                group => group.Key,
                group => new FillTotals(
                    group.Count(),
                    group.Sum(trade => trade.Qty * trade.Price),
                    group.Sum(trade => trade.Commission > 0 ? trade.Commission : 0m),
                    group.Sum(trade => trade.Commission < 0 ? -trade.Commission : 0m)));

    public static long Count(AccountSnapshot snapshot) => snapshot.Fills.Values.Sum(totals => totals.Count);

    public static long Saves(AccountSnapshot snapshot, string result) => snapshot.CursorSaves.GetValueOrDefault(result);

    public static void Equal(IReadOnlyDictionary<string, FillTotals> expected, IReadOnlyDictionary<string, FillTotals> actual)
    {
        Assert.Equal(expected.Keys.Order(), actual.Keys.Order());
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
}
