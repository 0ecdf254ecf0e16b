using System.Collections.Concurrent;
using System.Diagnostics;
using System.Text.RegularExpressions;
using Grinder.FakeBinance;
using Grinder.Grains;
using Grinder.Grains.Ingest;
using Grinder.Tests.Infrastructure;
using static Grinder.Benchmarks.BenchReport;

namespace Grinder.Benchmarks;

/// <summary>
/// Quiet poll: what a poll that finds nothing new costs the database, counted two ways while N quiet polls per account
/// run: every command and batch the silo's Npgsql sends (its "Npgsql" ActivitySource, one activity per round trip,
/// grouped by statement), and PostgreSQL's own counters (pg_stat_database.xact_commit for the database, and
/// pg_stat_user_tables for the ledger tables). Then a control: one new trade per account and one poll each, which must
/// show the ledger append. The accounts have drained a backlog first, so their ledger and read positions are not empty,
/// and the re-scan runs on every poll (interval 1 ms), so its re-reads are part of the quiet polls.
/// </summary>
internal static partial class QuietPollBenchmark
{
    private const string Symbol = "BTCUSDT";

    public static async Task<int> RunAsync(BenchArgs args)
    {
        var count = args.Int("accounts", 20);
        var backlog = args.Int("trades", 2000);
        var quietPolls = args.Int("polls", 50);
        args.RejectUnknown();
        Header("quiet", args);
        Console.WriteLine($"setup: {count} accounts x 1 symbol, each drains {backlog:N0} trades first; then {quietPolls} quiet polls per account (PollNowAsync, accounts in parallel), "
            + "then one new trade per account and one poll each (control); in-process silo with PostgreSQL grain storage and ledger (throwaway server), fake exchange in process; "
            + "poll, keeper and metrics flush interval 1 h (only the harness polls; the metrics grain writes nothing in the windows), re-scan interval 1 ms (every poll re-scans its window)");

        await using var exchange = await FakeExchange.StartAsync(new FakeExchangeOptions { WeightLimitPerMinute = 1_000_000_000 });
        var accounts = SiloSettings.AccountNames("quiet-", count);
        var startMs = DateTimeOffset.UtcNow.AddMinutes(-5).ToUnixTimeMilliseconds();
        foreach (var (account, index) in accounts.Select((a, i) => (a, i)))
        {
            exchange.AddAccount(FakeExchangeProcess.KeyOf(account), FakeExchangeProcess.SecretOf(account));
            exchange.GenerateTrades(FakeExchangeProcess.KeyOf(account), Symbol, backlog, 100 + index, 0, startMs);
        }

        await using var database = await (await PostgresServer.GetAsync()).CreateDatabaseAsync();
        var settings = SiloSettings.Ingest(exchange.BaseUrl, TimeSpan.FromHours(1)).WithAccounts(accounts, Symbol);
        settings["GRINDER_POSTGRES"] = database.ConnectionString;
        settings["Grinder:Ingest:KeeperInterval"] = "01:00:00";
        settings["Grinder:Ingest:RescanInterval"] = "00:00:00.001";
        settings["Grinder:Metrics:FlushInterval"] = "01:00:00";
        await using var silo = await InProcessSilo.StartAsync(settings);
        var grains = accounts.Select(a => silo.Grains.GetGrain<IFillIngestGrain>(ConfiguredAccount.GrainKeyFor(a))).ToList();

        // Drain the backlog (the first tick ran at activation), then one more poll each so every read position has settled.
        await Task.WhenAll(grains.Select(async grain =>
        {
            await WaitAsync(async () => (await grain.GetSnapshotAsync()).Polls >= 1, TimeSpan.FromMinutes(2), "each account's first poll");
            while ((await grain.GetSnapshotAsync()).Fills() < backlog)
            {
                await grain.PollNowAsync();
            }

            await grain.PollNowAsync();
        }));
        var ledgerRows = await database.ScalarAsync<long>("SELECT count(*) FROM grinder_fills");
        Console.WriteLine($"backlog drained: {ledgerRows:N0} ledger rows ({count} x {backlog:N0})");

        using var commands = new CommandCounter();
        var quiet = await WindowAsync(database, commands, grains, quietPolls, backlog, () => { });

        // The new trades are made inside the window: with the user data stream on, the stream may record them before the poll does.
        Console.WriteLine($"quiet polls: {quiet}");
        var control = await WindowAsync(database, commands, grains, 1, backlog + 1, () =>
        {
            foreach (var (account, index) in accounts.Select((a, i) => (a, i)))
            {
                exchange.GenerateTrades(FakeExchangeProcess.KeyOf(account), Symbol, 1, 1000 + index);
            }
        });
        Console.WriteLine($"control, one new trade per account: {control}");
        Console.WriteLine(Invariant($"database round trips per quiet poll: {quiet.PerPoll(quiet.Total):0.00} (ledger {quiet.PerPoll(quiet.Ledger):0.00}, grain-state writes {quiet.PerPoll(quiet.StateWrites):0.00}); ")
            + Invariant($"per poll with a new trade: {control.PerPoll(control.Total):0.00} (ledger {control.PerPoll(control.Ledger):0.00}, grain-state writes {control.PerPoll(control.StateWrites):0.00})"));
        await silo.StopAsync();
        return 0;
    }

    /// <summary><paramref name="polls"/> polls per account (accounts in parallel), with the silo's commands and PostgreSQL's counters around them.</summary>
    private static async Task<Window> WindowAsync(PostgresDatabase database, CommandCounter commands, IReadOnlyList<IFillIngestGrain> grains, int polls, long expectedFills, Action start)
    {
        var before = await ServerCountersAsync(database);
        commands.Start();
        start();
        var clock = Stopwatch.StartNew();
        await Task.WhenAll(grains.Select(async grain =>
        {
            for (var i = 0; i < polls; i++)
            {
                await grain.PollNowAsync();
            }

            // Whichever feeder records a new trade, its append falls inside the window.
            await WaitAsync(async () => (await grain.GetSnapshotAsync()).Fills() >= expectedFills, TimeSpan.FromSeconds(30), "the account's fills");
        }));
        var elapsed = clock.Elapsed;
        var counted = commands.Stop();
        var after = await ServerCountersAsync(database);
        foreach (var grain in grains)
        {
            var snapshot = await grain.GetSnapshotAsync();
            if (snapshot.Fills() != expectedFills || snapshot.Errors.Count > 0)
            {
                throw new InvalidOperationException($"an account counted {snapshot.Fills()} fills (expected {expectedFills}), errors: {string.Join(", ", snapshot.Errors)}");
            }
        }

        // The harness's own statements between the two readings (ServerCountersAsync commits its own transaction) are not the silo's.
        return new Window(grains.Count * polls, elapsed, counted, after.Commits - before.Commits - 1, after.LedgerWrites - before.LedgerWrites, after.LedgerScans - before.LedgerScans);
    }

    /// <summary>
    /// Commits of the database and row writes and scans of the ledger tables. PostgreSQL's backends report their
    /// counters at most once a second and an idle one after up to 10 s, so the reading waits for them first.
    /// </summary>
    private static async Task<(long Commits, long LedgerWrites, long LedgerScans)> ServerCountersAsync(PostgresDatabase database)
    {
        await Task.Delay(TimeSpan.FromSeconds(11));
        var row = (await database.QueryAsync("""
            SELECT (SELECT xact_commit FROM pg_stat_database WHERE datname = current_database()),
                   (SELECT coalesce(sum(n_tup_ins + n_tup_upd + n_tup_del), 0) FROM pg_stat_user_tables WHERE relname LIKE 'grinder_fill%'),
                   (SELECT coalesce(sum(coalesce(seq_scan, 0) + coalesce(idx_scan, 0)), 0) FROM pg_stat_user_tables WHERE relname LIKE 'grinder_fill%')
            """))[0];
        return (Convert.ToInt64(row[0], System.Globalization.CultureInfo.InvariantCulture),
            Convert.ToInt64(row[1], System.Globalization.CultureInfo.InvariantCulture),
            Convert.ToInt64(row[2], System.Globalization.CultureInfo.InvariantCulture));
    }

    private sealed record Window(int Polls, TimeSpan Elapsed, IReadOnlyDictionary<string, int> Statements, long Commits, long LedgerRowWrites, long LedgerScans)
    {
        public int Total => Statements.Values.Sum();

        public int Ledger => Statements.Where(s => s.Key.StartsWith(CommandCounter.LedgerTag, StringComparison.Ordinal)).Sum(s => s.Value);

        public int StateWrites => Statements.Where(s => s.Key.Contains("grinder_grain_state_write", StringComparison.OrdinalIgnoreCase)).Sum(s => s.Value);

        public double PerPoll(long value) => value / (double)Polls;

        public override string ToString() => Invariant($"{Polls:N0} polls in {Elapsed.TotalSeconds:0.0} s; silo round trips {Total:N0} = {PerPoll(Total):0.00} per poll, ")
            + Invariant($"ledger statements {Ledger:N0}, grain-state writes {StateWrites:N0}; PostgreSQL: {Commits:N0} commits = {PerPoll(Commits):0.00} per poll, ledger tables {LedgerRowWrites:N0} row writes and {LedgerScans:N0} scans; ")
            + "by statement: " + string.Join("; ", Statements.OrderByDescending(s => s.Value).Select(s => $"{s.Value} x \"{s.Key}\""));
    }

    /// <summary>
    /// Counts the round trips of this process's Npgsql (one activity per command or batch, physical opens excluded),
    /// grouped by the first 80 characters of their statement text, those touching the ledger tables tagged.
    /// </summary>
    private sealed partial class CommandCounter : IDisposable
    {
        public const string LedgerTag = "[ledger] ";

        private readonly ActivityListener _listener;
        private ConcurrentDictionary<string, int>? _counts;

        public CommandCounter()
        {
            _listener = new ActivityListener
            {
                ShouldListenTo = source => source.Name == "Npgsql",
                Sample = (ref ActivityCreationOptions<ActivityContext> _) => ActivitySamplingResult.AllDataAndRecorded,
                ActivityStopped = Stopped,
            };
            ActivitySource.AddActivityListener(_listener);
        }

        public void Start() => _counts = new ConcurrentDictionary<string, int>(StringComparer.Ordinal);

        public IReadOnlyDictionary<string, int> Stop()
        {
            var result = _counts!;
            _counts = null;
            return result;
        }

        public void Dispose() => _listener.Dispose();

        private void Stopped(Activity activity)
        {
            var into = _counts;
            if (into is null || activity.DisplayName.StartsWith("CONNECT", StringComparison.Ordinal))
            {
                return;
            }

            var text = activity.GetTagItem("db.query.text") as string ?? activity.GetTagItem("db.statement") as string ?? activity.DisplayName;
            var key = Whitespace().Replace(text, " ").Trim();
            // A batch's text is its statements' texts; the ledger's append names the ledger tables only after the first 80 characters.
            key = (text.Contains("grinder_fill", StringComparison.Ordinal) ? LedgerTag : string.Empty) + (key.Length > 80 ? key[..80] : key);
            into.AddOrUpdate(key, 1, (_, n) => n + 1);
        }

        [GeneratedRegex(@"\s+")]
        private static partial Regex Whitespace();
    }
}
