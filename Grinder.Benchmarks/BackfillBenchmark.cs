using System.Diagnostics;
using Grinder.FakeBinance;
using Grinder.Grains;
using Grinder.Grains.Binance;
using Grinder.Grains.Ingest;
using Grinder.Grains.Ledger;
using Grinder.Tests.Infrastructure;
using Microsoft.Extensions.Logging;
using static Grinder.Benchmarks.BenchReport;

namespace Grinder.Benchmarks;

/// <summary>
/// Backfill: one account drains N trades of one symbol from the fake exchange over loopback HTTP.
/// Full path = a real in-process silo (Program.cs composition) whose FillIngestGrain fetches, parses, appends to the fill
/// ledger (SQLite in local mode, PostgreSQL otherwise; each round ends by checking the ledger counted every row) and saves,
/// driven by PollNowAsync in a loop. Floor = the same client (<see cref="IUserTradesFetcher"/> from the same DI
/// registration) fetching and parsing the same pages with nothing else. Floor fetches and full-path polls alternate one
/// poll at a time (10 pages each), so the machine's noise falls on both alike; each side's rate is its rows over the
/// time spent in its own calls, and a round's ratio is full ÷ floor.
/// </summary>
internal static class BackfillBenchmark
{
    private const string Symbol = "BTCUSDT";
    private const int Seed = 42;

    /// <summary>Upstream (Python) design on paper: 500 rows per symbol per poll, one poll every 5 s.</summary>
    private const double UpstreamRowsPerSecond = 500 / 5.0;

    public static async Task<int> RunAsync(BenchArgs args)
    {
        var trades = args.Int("trades", 1_000_000);
        var rounds = args.Int("rounds", 2);
        var storage = args.Text("storage", "file");
        args.RejectUnknown();
        if (storage is not ("file" or "postgres"))
        {
            throw new ArgumentException("--storage is file or postgres");
        }

        Header("backfill", args);
        var binanceDefaults = new BinanceOptions();
        Console.WriteLine($"setup: {trades:N0} trades of {Symbol} per account (no self-trades), executed within the last hour (inside the 7-day bootstrap lookback); "
            + $"fake exchange in process, fake and client weight limit 1,000,000,000/min (the governor never waits); MaxPagesPerPoll {binanceDefaults.MaxPagesPerPoll}, PageLimit {binanceDefaults.PageLimit}; "
            + "full path driven by PollNowAsync in a loop (poll and keeper interval 1 h, so only the loop polls after each account's first tick); "
            + $"storage: {(storage == "file" ? "local mode (grain state as files and the SQLite ledger in a temp dir)" : "PostgreSQL grain state and ledger (throwaway server, fresh database)")}");

        await using var exchange = await FakeExchange.StartAsync(new FakeExchangeOptions { WeightLimitPerMinute = 1_000_000_000 });

        // Round 0 warms up JIT, connection pools and the grain code on a smaller drain and is not reported.
        var warmup = Math.Min(trades, 100_000);
        var full = Enumerable.Range(0, rounds + 1).Select(r => "full-" + r.ToString(System.Globalization.CultureInfo.InvariantCulture)).ToList();
        var generation = Stopwatch.StartNew();
        var startMs = DateTimeOffset.UtcNow.AddHours(-1).ToUnixTimeMilliseconds();
        foreach (var account in full.Prepend("floor"))
        {
            exchange.AddAccount(FakeExchangeProcess.KeyOf(account), FakeExchangeProcess.SecretOf(account));
            exchange.GenerateTrades(FakeExchangeProcess.KeyOf(account), Symbol, account == "full-0" ? warmup : trades, Seed, 0, startMs);
        }

        Console.WriteLine($"generated {trades:N0} trades for the floor account and each of {rounds} full-path accounts, {warmup:N0} for the warm-up, in {generation.Elapsed.TotalSeconds:0.0} s");

        PostgresDatabase? database = storage == "postgres" ? await (await PostgresServer.GetAsync()).CreateDatabaseAsync() : null;
        using var data = new TempDirectory();
        var settings = SiloSettings.Ingest(exchange.BaseUrl, TimeSpan.FromHours(1)).WithAccounts(full, Symbol);
        settings[database is null ? "GRINDER_DATA_DIR" : "GRINDER_POSTGRES"] = database?.ConnectionString ?? data.Path;
        settings["Grinder:Ingest:KeeperInterval"] = "01:00:00";
        var ratios = new List<double>();
        var floorRates = new List<double>();
        var fullRates = new List<double>();
        try
        {
            await using var silo = await InProcessSilo.StartAsync(settings);
            await using var floor = new FloorClient(exchange.BaseUrl);
            for (var round = 0; round <= rounds; round++)
            {
                var rows = round == 0 ? warmup : trades;
                var grain = silo.Grains.GetGrain<IFillIngestGrain>(ConfiguredAccount.GrainKeyFor(full[round]));
                var (floorRun, fullRun) = await DrainAsync(floor, grain, rows);
                if (round == 0)
                {
                    Console.WriteLine($"warm-up ({warmup:N0} rows): floor {floorRun}; full path {fullRun}");
                    continue;
                }

                // The full path's rows are in the ledger, each counted once (the totals rise by exactly the inserted rows).
                var ledgered = (await silo.Services.GetRequiredService<IFillLedger>().GetTotalsAsync(full[round], CancellationToken.None)).Count;
                if (ledgered != rows)
                {
                    throw new InvalidOperationException($"the ledger counted {ledgered:N0} fills of {full[round]}, expected {rows:N0}");
                }

                floorRates.Add(floorRun.RowsPerSecond);
                fullRates.Add(fullRun.RowsPerSecond);
                ratios.Add(fullRun.RowsPerSecond / floorRun.RowsPerSecond);
                Console.WriteLine(Invariant($"round {round}: floor {floorRun}; full path {fullRun}; ratio {fullRun.RowsPerSecond / floorRun.RowsPerSecond:0.00}"));
            }
        }
        finally
        {
            if (database is not null)
            {
                await database.DisposeAsync();
            }
        }

        var designCeiling = binanceDefaults.MaxPagesPerPoll * binanceDefaults.PageLimit / new IngestOptions().PollInterval.TotalSeconds;
        Console.WriteLine($"floor (fetch + parse only): {Spread(floorRates, "N0")} rows/s");
        Console.WriteLine($"full path (fetch, parse, ledger append, save): {Spread(fullRates, "N0")} rows/s");
        Console.WriteLine($"ratio full / floor: {Spread(ratios, "0.00")} (goal >= 0.5)");
        Console.WriteLine(Invariant($"on paper: upstream design {UpstreamRowsPerSecond:N0} rows/s per symbol (500 rows per 5 s poll): {trades / UpstreamRowsPerSecond / 3600:0.0} h for {trades:N0} trades; ")
            + Invariant($"this design at default settings is capped at {designCeiling:N0} rows/s per symbol ({binanceDefaults.MaxPagesPerPoll} pages x {binanceDefaults.PageLimit} rows per 5 s poll): {trades / designCeiling / 60:0.0} min; ")
            + Invariant($"measured full path {Percentile(fullRates, 50):N0} rows/s = {Percentile(fullRates, 50) / UpstreamRowsPerSecond:N0}x the upstream design"));
        return 0;
    }

    /// <summary>Alternates one floor fetch and one full-path poll (order flipped every step) until both have read <paramref name="trades"/> rows.</summary>
    private static async Task<(DrainResult Floor, DrainResult Full)> DrainAsync(FloorClient floor, IFillIngestGrain grain, int trades)
    {
        // Both sides start after one poll's worth (the bootstrap window and the first pages): the grain's first tick ran at activation.
        await WaitAsync(async () => (await grain.GetSnapshotAsync()).Polls >= 1, TimeSpan.FromMinutes(2), "the account's first poll");
        var floorSide = new Side();
        var fullSide = new Side();
        var position = await floor.StartAsync();
        var start = await grain.GetSnapshotAsync();
        var counted = start.Fills();
        var floorRead = 0L;
        for (var step = 0; floorRead + floor.FirstPollRows < trades || counted < trades; step++)
        {
            for (var half = 0; half < 2; half++)
            {
                if ((half + step) % 2 == 0 && floorRead + floor.FirstPollRows < trades)
                {
                    var result = await floorSide.TimeAsync(() => floor.FetchAsync(position));
                    position = result.Next;
                    floorRead += result.Trades.Count;
                    floorSide.Rows += result.Trades.Count;
                }
                else if ((half + step) % 2 == 1 && counted < trades)
                {
                    await fullSide.TimeAsync(async () =>
                    {
                        await grain.PollNowAsync();
                        return 0;
                    });
                    var snapshot = await grain.GetSnapshotAsync();
                    if (snapshot.Errors.Count > 0)
                    {
                        throw new InvalidOperationException($"full path errors: {string.Join(", ", snapshot.Errors)}");
                    }

                    fullSide.Rows += snapshot.Fills() - counted;
                    counted = snapshot.Fills();
                }
            }
        }

        return (floorSide.Result, fullSide.Result);
    }

    /// <summary>Rows, wall time and process CPU spent inside one side's calls.</summary>
    private sealed class Side
    {
        private TimeSpan _elapsed;
        private TimeSpan _cpu;
        private long _calls;

        public long Rows { get; set; }

        public DrainResult Result => new(Rows, _elapsed, _cpu, _calls);

        public async Task<T> TimeAsync<T>(Func<Task<T>> call)
        {
            var cpuBefore = OwnCpu();
            var start = Stopwatch.GetTimestamp();
            var result = await call();
            _elapsed += Stopwatch.GetElapsedTime(start);
            _cpu += OwnCpu() - cpuBefore;
            _calls++;
            return result;
        }
    }

    private sealed record DrainResult(long Rows, TimeSpan Elapsed, TimeSpan Cpu, long Polls)
    {
        public double RowsPerSecond => Rows / Elapsed.TotalSeconds;

        public override string ToString() =>
            Invariant($"{RowsPerSecond:N0} rows/s ({Rows:N0} rows in {Elapsed.TotalSeconds:0.00} s of its own calls, {Polls} polls, process CPU {Cpu.TotalSeconds:0.0} s = {Cpu.TotalMilliseconds * 1000 / Rows:0.0} ms per 1,000 rows)");
    }

    /// <summary>The silo's Binance client, registered exactly as the silo registers it, with nothing after the parse.</summary>
    private sealed class FloorClient : IAsyncDisposable
    {
        private readonly ServiceProvider _services;
        private readonly IUserTradesFetcher _fetcher;
        private readonly BinanceCredentials _credentials = new(FakeExchangeProcess.KeyOf("floor"), FakeExchangeProcess.SecretOf("floor"));

        public FloorClient(Uri exchange)
        {
            var configuration = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
            {
                ["Grinder:Binance:BaseUrl"] = exchange.ToString(),
                ["Grinder:Binance:WeightLimitPerMinute"] = "1000000000",
            }).Build();
            _services = new ServiceCollection()
                .AddSingleton<IConfiguration>(configuration)
                .AddLogging(logging => logging.SetMinimumLevel(LogLevel.Warning))
                .AddGrinderBinanceClient()
                .BuildServiceProvider();
            _fetcher = _services.GetRequiredService<IUserTradesFetcher>();
        }

        /// <summary>Rows of the untimed first poll of the current drain.</summary>
        public int FirstPollRows { get; private set; }

        /// <summary>Reads one poll's worth from a fresh cursor, untimed (as the grain's first tick); returns the position after it.</summary>
        public async Task<FetchPosition> StartAsync()
        {
            var lookback = new IngestOptions().BootstrapLookback;
            var first = await FetchAsync(new FetchPosition(null, 0, DateTimeOffset.UtcNow.Add(-lookback).ToUnixTimeMilliseconds(), false));
            FirstPollRows = first.Trades.Count;
            return first.Next;
        }

        public async Task<FetchResult> FetchAsync(FetchPosition position)
        {
            var result = await _fetcher.FetchAsync(_credentials, new FetchRequest(Symbol, position, new BinanceOptions().MaxPagesPerPoll), CancellationToken.None);
            if (result.Error is not null || result.Trades.Count == 0)
            {
                throw new InvalidOperationException($"floor fetch read nothing: {result.Error} {result.ErrorDetail}");
            }

            return result;
        }

        public ValueTask DisposeAsync() => _services.DisposeAsync();
    }
}
