using System.Diagnostics;
using Grinder.Grains;
using Grinder.Grains.Ingest;
using Grinder.Tests.Infrastructure;
using static Grinder.Benchmarks.BenchReport;

namespace Grinder.Benchmarks;

/// <summary>
/// Memory per idle account grain. An in-process silo (local file storage, ingest on, fake exchange with no trades in
/// its own process) activates N accounts; each polls once and then idles (poll and keeper interval 1 h). Per round:
/// deactivate all accounts, settle the heap, re-activate them (EnsurePollingAsync, as the keeper does), wait for each
/// one's poll, settle again: the difference ÷ N is one idle account. The baseline is the same measurement for N
/// activations of a grain with no state and no timer, in the same process and round.
/// </summary>
internal static class MemoryBenchmark
{
    public static async Task<int> RunAsync(BenchArgs args)
    {
        var count = args.Int("accounts", 2000);
        var symbols = args.Text("symbols", "BTCUSDT");
        var rounds = args.Int("rounds", 2);
        args.RejectUnknown();
        Header("memory", args);
        Console.WriteLine($"setup: {count} accounts x [{symbols}], local file storage, poll interval and keeper interval 1 h (each account polls once after activation, then idles), "
            + "fake exchange with no trades in a child process; heap = GC.GetTotalMemory(true) after three forced compacting collections");

        var accounts = SiloSettings.AccountNames("mem-", count);
        await using var fake = await FakeExchangeProcess.StartAsync(accounts, symbols, TimeSpan.Zero);
        using var data = new TempDirectory();
        var settings = SiloSettings.Ingest(fake.BaseUrl, TimeSpan.FromHours(1)).WithAccounts(accounts, symbols);
        settings["GRINDER_DATA_DIR"] = data.Path;
        settings["Grinder:Ingest:KeeperInterval"] = "01:00:00";
        await using var silo = await InProcessSilo.StartAsync(settings);
        var grains = accounts.Select(a => silo.Grains.GetGrain<IFillIngestGrain>(ConfiguredAccount.GrainKeyFor(a))).ToList();
        var management = silo.Grains.GetGrain<IManagementGrain>(0);

        // The keeper activated every account at start; this first round of activations also warms JIT, pools and files.
        var polls = await WaitForPollsAsync(grains, null);
        Console.WriteLine($"all {count} accounts polled once; {await CountAsync(management, nameof(FillIngestGrain))} account activations");

        var perAccount = new List<double>();
        var perBaseline = new List<double>();
        for (var round = 1; round <= rounds; round++)
        {
            await Task.WhenAll(grains.Select(g => management.DeactivateGrain(g.GetGrainId())));
            await RequireActivationsAsync(management, nameof(FillIngestGrain), 0);
            var (heap0, set0) = Measure();

            await Task.WhenAll(grains.Select(g => g.EnsurePollingAsync()));
            polls = await WaitForPollsAsync(grains, polls);
            await RequireActivationsAsync(management, nameof(FillIngestGrain), count);
            var (heap1, set1) = Measure();

            await Task.WhenAll(grains.Select(g => management.DeactivateGrain(g.GetGrainId())));
            await RequireActivationsAsync(management, nameof(FillIngestGrain), 0);
            var (heap2, set2) = Measure();

            var baseline = Enumerable.Range(0, count).Select(i => silo.Grains.GetGrain<IIdleBaselineGrain>($"baseline-{round}-{i}")).ToList();
            await Task.WhenAll(baseline.Select(g => g.PingAsync()));
            await RequireActivationsAsync(management, nameof(IdleBaselineGrain), count);
            var (heap3, set3) = Measure();
            await Task.WhenAll(baseline.Select(g => management.DeactivateGrain(g.GetGrainId())));

            var account = (heap1 - heap0) / (double)count;
            var trivial = (heap3 - heap2) / (double)count;
            perAccount.Add(account);
            perBaseline.Add(trivial);
            Console.WriteLine(Invariant($"round {round}: account grain {account / 1024:0.00} KB heap, {(set1 - set0) / 1024.0 / count:0.00} KB working set; ")
                + Invariant($"baseline grain {trivial / 1024:0.00} KB heap, {(set3 - set2) / 1024.0 / count:0.00} KB working set; ")
                + Invariant($"heap left after deactivating the accounts {(heap2 - heap0) / 1024.0 / count:0.00} KB per account"));
        }

        Console.WriteLine($"idle account grain: {Spread(perAccount.Select(b => b / 1024).ToList(), "0.00")} KB managed heap (goal <= 64 KB)");
        Console.WriteLine($"baseline grain (no state, no timer): {Spread(perBaseline.Select(b => b / 1024).ToList(), "0.00")} KB");
        Console.WriteLine($"account minus baseline: {Spread(perAccount.Zip(perBaseline, (a, b) => (a - b) / 1024).ToList(), "0.00")} KB; "
            + $"ratio account / baseline: {Spread(perAccount.Zip(perBaseline, (a, b) => a / b).ToList(), "0.0")}");
        return 0;
    }

    private static (long Heap, long WorkingSet) Measure()
    {
        var heap = SettledHeap();
        using var self = Process.GetCurrentProcess();
        return (heap, self.WorkingSet64);
    }

    /// <summary>Waits until every account has polled once more than in <paramref name="previous"/> (at least once when null).</summary>
    private static async Task<long[]> WaitForPollsAsync(IReadOnlyList<IFillIngestGrain> grains, long[]? previous)
    {
        long[] polls = [];
        await WaitAsync(
            async () =>
            {
                polls = (await Task.WhenAll(grains.Select(g => g.GetSnapshotAsync()))).Select(s => s.Polls).ToArray();
                return polls.Select((p, i) => p >= (previous?[i] ?? 0) + 1).All(ok => ok);
            },
            TimeSpan.FromMinutes(3),
            "every account's poll",
            TimeSpan.FromMilliseconds(500));
        return polls;
    }

    private static async Task<int> CountAsync(IManagementGrain management, string grainClass) =>
        (await management.GetSimpleGrainStatistics())
            .Where(s => s.GrainType.Split(',')[0].EndsWith("." + grainClass, StringComparison.Ordinal))
            .Sum(s => s.ActivationCount);

    private static async Task RequireActivationsAsync(IManagementGrain management, string grainClass, int expected) =>
        await WaitAsync(async () => await CountAsync(management, grainClass) == expected, TimeSpan.FromSeconds(60), $"{expected} activations of {grainClass}");
}
