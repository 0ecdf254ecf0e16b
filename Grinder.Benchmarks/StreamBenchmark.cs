using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using System.Text.RegularExpressions;
using Grinder.FakeBinance;
using Grinder.Tests.Infrastructure;
using static Grinder.Benchmarks.BenchReport;

namespace Grinder.Benchmarks;

/// <summary>
/// User data stream against pure REST polling at 1,000 (account, symbol) pairs on one silo: each contender is a real silo
/// process (local mode: SQLite ledger, file grain state) against its own fake exchange in the harness process that enforces
/// Binance's weight accounting (2,400 per IP and minute; the silo takes its default share 0.5). The harness adds trades at
/// random (a Poisson process per pair), scrapes <c>/metrics</c> every few hundred milliseconds, and afterwards reads the
/// ledger (<c>GET /fills</c>) and the fake's request log. The contenders run at the same time, so the shared machine's
/// load falls on all of them alike.
/// </summary>
internal static partial class StreamBenchmark
{
    private const int UserTradesWeight = 5;

    public static async Task<int> RunAsync(BenchArgs args)
    {
        var accountCount = args.Int("accounts", 100);
        var symbolCount = args.Int("symbols", 10);
        var perPairPerMinute = args.Int("fills-per-pair-per-minute", 1);
        var generate = args.Duration("generate", TimeSpan.FromMinutes(9));
        var drainTimeout = args.Duration("drain-timeout", TimeSpan.FromMinutes(10));
        var scrapeEvery = args.Duration("scrape-every", TimeSpan.FromMilliseconds(200));
        var contenders = args.Text("contenders", "stream,rest,stream-drop10");
        var seed = args.Int("seed", 1);
        args.RejectUnknown();
        Header("stream", args);

        var symbols = AllSymbols.Take(symbolCount).ToList();
        if (symbols.Count < symbolCount)
        {
            throw new ArgumentException($"at most {AllSymbols.Length} symbols");
        }

        var names = contenders.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        var setups = names.Select(name => name switch
        {
            "stream" => new Contender(name, Stream: true, DropFraction: 0),
            "rest" => new Contender(name, Stream: false, DropFraction: 0),
            "stream-drop10" => new Contender(name, Stream: true, DropFraction: 0.1),
            _ => throw new ArgumentException($"--contenders: unknown contender '{name}' (stream, rest, stream-drop10)"),
        }).ToList();
        Console.WriteLine($"setup: {accountCount} accounts x {symbolCount} symbols = {accountCount * symbolCount} pairs per silo; contenders {string.Join(", ", names)} "
            + "at the same time, each a silo process (local mode: SQLite ledger) against its own in-process fake exchange (weight limit 2400/min per IP, "
            + $"silo WeightLimitPerMinute 2400 x WeightShare 0.5); {perPairPerMinute} fill(s) per pair per minute on average (Poisson per pair) for {Format(generate)}; "
            + $"/metrics every {Format(scrapeEvery)}");
        Console.WriteLine($"load average at start: {LoadAverage()}");

        using var load = new LoadSampler();
        var results = await Task.WhenAll(setups.Select((setup, index) =>
            RunContenderAsync(setup, accountCount, symbols, perPairPerMinute, generate, drainTimeout, scrapeEvery, seed + (index * 1000))));
        Console.WriteLine($"load average during the run (1-min, sampled every 30 s): {load.Summary()}");

        var streamP99 = results.FirstOrDefault(r => r.Name == "stream")?.P99Ms;
        var restP99 = results.FirstOrDefault(r => r.Name == "rest")?.P99Ms;
        if (streamP99 is > 0 && restP99 is { } rest)
        {
            Console.WriteLine(Invariant($"ratio REST-mode p99 / stream-mode p99 = {rest / streamP99.Value:0.0}x"));
        }

        return results.All(r => r.Exact) ? 0 : 1;
    }

    private static readonly string[] AllSymbols =
        ["BTCUSDT", "ETHUSDT", "BNBUSDT", "SOLUSDT", "XRPUSDT", "DOGEUSDT", "ADAUSDT", "AVAXUSDT", "LINKUSDT", "DOTUSDT", "LTCUSDT", "TRXUSDT"];

    private sealed record Contender(string Name, bool Stream, double DropFraction);

    private sealed record Outcome(string Name, double? P99Ms, bool Exact);

    private sealed record LedgerRow(string Account, FakeTradeKey Key, long TimeMs, long FirstSeenMs, string FirstSeenBy);

    private static async Task<Outcome> RunContenderAsync(
        Contender setup, int accountCount, IReadOnlyList<string> symbols, int perPairPerMinute, TimeSpan generate, TimeSpan drainTimeout, TimeSpan scrapeEvery, int seed)
    {
        var accounts = SiloSettings.AccountNames("sb-", accountCount);
        await using var exchange = await FakeExchange.StartAsync(new FakeExchangeOptions
        {
            // Binance's limit: the figures are about living within it.
            WeightLimitPerMinute = 2400,
            MaxLoggedRequests = 2_000_000,
            Symbols = [.. symbols],
        });
        foreach (var account in accounts)
        {
            exchange.AddAccount(FakeExchangeProcess.KeyOf(account), FakeExchangeProcess.SecretOf(account));
        }

        if (setup.DropFraction > 0)
        {
            exchange.SetStreamFaults(new FakeStreamFaults(DropFraction: setup.DropFraction, Seed: seed));
        }

        using var data = new TempDirectory();
        var port = FreePorts.Next();
        var environment = new Dictionary<string, string?>(SiloSettings.Quiet(), StringComparer.OrdinalIgnoreCase)
        {
            ["FILL_INGEST_ENABLED"] = "1",
            ["Grinder:Binance:BaseUrl"] = exchange.BaseUrl.ToString(),
            ["Grinder:Stream:Enabled"] = setup.Stream ? "true" : "false",
            ["GRINDER_DATA_DIR"] = data.Path,
            ["ASPNETCORE_URLS"] = $"http://127.0.0.1:{port.ToString(CultureInfo.InvariantCulture)}",
            ["Grinder:Orleans:SiloPort"] = FreePorts.Next().ToString(CultureInfo.InvariantCulture),
            ["Grinder:Orleans:GatewayPort"] = FreePorts.Next().ToString(CultureInfo.InvariantCulture),
        }.WithAccounts(accounts, string.Join(',', symbols));

        await using var silo = SiloProcess.Start(environment.AsEnvironment());
        using var http = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{port.ToString(CultureInfo.InvariantCulture)}/"), Timeout = TimeSpan.FromSeconds(30) };
        var tag = $"[{setup.Name}]";
        try
        {
            await WaitAsync(
                async () =>
                {
                    if (silo.ExitCode is { } code)
                    {
                        throw new InvalidOperationException($"{tag} silo exited with {code}: {silo.Output}");
                    }

                    try
                    {
                        var text = await http.GetStringAsync("metrics");
                        var connected = Sum(text, "grinder_fill_streams_connected");
                        var polls = Sum(text, "grinder_fill_ingest_polls_total");
                        // REST mode starts as soon as it polls: its first round over 1,000 pairs takes minutes within the budget, and
                        // the contenders should load the machine over the same minutes.
                        return setup.Stream ? connected >= accountCount : polls >= 1;
                    }
                    catch (HttpRequestException)
                    {
                        return false;
                    }
                    catch (TaskCanceledException)
                    {
                        return false;
                    }
                },
                TimeSpan.FromMinutes(3),
                $"{tag} the silo to serve with every account {(setup.Stream ? "streaming" : "polling")}",
                TimeSpan.FromMilliseconds(500));

            var startedMs = Now();
            Console.WriteLine($"{tag} silo up ({(setup.Stream ? "every account streaming" : "polling")}) at {DateTimeOffset.UtcNow:HH:mm:ss}; generating");

            using var stopScraping = new CancellationTokenSource();
            var scrapes = new List<(long AtMs, long Count)>();
            var scraper = Task.Run(() => ScrapeLoopAsync(http, scrapeEvery, scrapes, stopScraping.Token));
            var healthSamples = new List<string>();
            var health = Task.Run(() => HealthLoopAsync(http, healthSamples, stopScraping.Token));

            // One Poisson process per pair at the given rate is one process over all pairs at the summed rate, each event on a
            // pair drawn uniformly.
            var random = new Random(seed);
            var meanGapMs = 60_000.0 / (accounts.Count * symbols.Count * perPairPerMinute);
            var clock = Stopwatch.StartNew();
            var dueMs = 0.0;
            var added = 0;
            while (true)
            {
                dueMs += -Math.Log(1 - random.NextDouble()) * meanGapMs;
                if (dueMs >= generate.TotalMilliseconds)
                {
                    break;
                }

                var wait = dueMs - clock.Elapsed.TotalMilliseconds;
                if (wait > 1)
                {
                    await Task.Delay(TimeSpan.FromMilliseconds(wait));
                }

                var pair = random.Next(accounts.Count * symbols.Count);
                exchange.GenerateTrades(FakeExchangeProcess.KeyOf(accounts[pair / symbols.Count]), symbols[pair % symbols.Count], 1, random.Next());
                added++;
            }

            var generatedEndMs = Now();
            Console.WriteLine($"{tag} {added} trades added over {Format(generate)} ({added / generate.TotalMinutes:0} per minute); draining");

            var expected = accounts.Sum(a => exchange.TradeKeys(FakeExchangeProcess.KeyOf(a)).Count);
            var drained = true;
            try
            {
                await WaitAsync(
                    () =>
                    {
                        lock (scrapes)
                        {
                            return Task.FromResult(scrapes.Count > 0 && scrapes[^1].Count >= expected);
                        }
                    },
                    drainTimeout,
                    $"{tag} /metrics to count all {expected} fills",
                    TimeSpan.FromMilliseconds(500));
            }
            catch (TimeoutException error)
            {
                drained = false;
                Console.WriteLine($"{tag} {error.Message}");
            }

            // A few more scrapes and one more health sample after the last fill arrived.
            await Task.Delay(TimeSpan.FromSeconds(2));
            await stopScraping.CancelAsync();
            await scraper;
            await health;
            using (var last = await http.GetAsync("healthz"))
            {
                // 503 too: the body still names every account's round.
                healthSamples.Add(await last.Content.ReadAsStringAsync());
            }
            var endMs = Now();

            var ledger = await ReadLedgerAsync(http, accounts);
            var finalCount = Sum(await http.GetStringAsync("metrics"), "grinder_fills_total");
            Report(tag, setup, exchange, accounts, symbols, ledger, scrapes, healthSamples, startedMs, generatedEndMs, endMs, finalCount, drained, out var p99, out var exact);
            return new Outcome(setup.Name, p99, exact);
        }
        finally
        {
            silo.Terminate();
            try
            {
                await silo.WaitForExitAsync(TimeSpan.FromSeconds(30));
            }
            catch (OperationCanceledException)
            {
                // Disposal kills it.
            }
        }
    }

    private static void Report(
        string tag,
        Contender setup,
        FakeExchange exchange,
        IReadOnlyList<string> accounts,
        IReadOnlyList<string> symbols,
        IReadOnlyList<LedgerRow> ledger,
        List<(long AtMs, long Count)> scrapes,
        List<string> healthSamples,
        long startedMs,
        long generatedEndMs,
        long endMs,
        double finalCount,
        bool drained,
        out double? p99,
        out bool exact)
    {
        // Exact totals: the ledger's keys against the fake's, and the counter against the ledger.
        var fakeKeys = accounts.SelectMany(a => exchange.TradeKeys(FakeExchangeProcess.KeyOf(a)).Select(k => (a, k))).ToHashSet();
        var ledgerKeys = ledger.Select(r => (r.Account, r.Key)).ToHashSet();
        var missing = fakeKeys.Except(ledgerKeys).Count();
        var extra = ledgerKeys.Except(fakeKeys).Count();
        exact = missing == 0 && extra == 0 && ledgerKeys.Count == ledger.Count && (long)finalCount == ledger.Count;
        Console.WriteLine($"{tag} totals: fake {fakeKeys.Count} trades, ledger {ledger.Count} rows ({ledgerKeys.Count} distinct keys), missing {missing}, extra {extra}, "
            + $"grinder_fills_total {finalCount:0}: {(exact ? "EXACT" : "NOT EXACT")}{(drained ? string.Empty : " (drain timed out)")}; by feeder: "
            + string.Join(", ", ledger.GroupBy(r => r.FirstSeenBy).OrderBy(g => g.Key, StringComparer.Ordinal).Select(g => $"{g.Key} {g.Count()}")));

        // Latency to the first scrape that counts a fill. /metrics has totals only (no account or symbol labels), so a fill is
        // attributed by rank: ledger rows ordered by firstSeen, the n-th is counted by the first scrape taken after its firstSeen
        // whose total is at least n. Exact when the metrics grain receives the accounts' reports in firstSeen order.
        List<(long AtMs, long Count)> taken;
        lock (scrapes)
        {
            taken = [.. scrapes];
        }

        var ordered = ledger.OrderBy(r => r.FirstSeenMs).ThenBy(r => r.TimeMs).ToList();
        var latencies = new List<double>(ordered.Count);
        var ledgerLatencies = new List<double>(ordered.Count);
        var unattributed = 0;
        var s = 0;
        for (var n = 0; n < ordered.Count; n++)
        {
            var row = ordered[n];
            while (s < taken.Count && (taken[s].Count < n + 1 || taken[s].AtMs < row.FirstSeenMs))
            {
                s++;
            }

            ledgerLatencies.Add(row.FirstSeenMs - row.TimeMs);
            if (s == taken.Count)
            {
                unattributed++;
                continue;
            }

            latencies.Add(taken[s].AtMs - row.TimeMs);
        }

        var gaps = taken.Zip(taken.Skip(1), (a, b) => (double)(b.AtMs - a.AtMs)).ToList();
        p99 = latencies.Count > 0 ? Percentile(latencies, 99) : null;
        if (latencies.Count > 0)
        {
            Console.WriteLine(Invariant($"{tag} trade time -> first /metrics scrape counting it: p50 {Percentile(latencies, 50):0} ms, p90 {Percentile(latencies, 90):0} ms, p99 {Percentile(latencies, 99):0} ms, max {latencies.Max():0} ms over {latencies.Count} fills ({unattributed} unattributed); ")
                + Invariant($"trade time -> ledger firstSeen: p50 {Percentile(ledgerLatencies, 50):0} ms, p99 {Percentile(ledgerLatencies, 99):0} ms; ")
                + Invariant($"{taken.Count} scrapes, interval p50 {Percentile(gaps, 50):0} ms, p99 {Percentile(gaps, 99):0} ms, max {gaps.Max():0} ms"));
        }

        // Feeders: how the stream-fed rows and the REST-fed rows compare.
        foreach (var group in ledger.GroupBy(r => r.FirstSeenBy).OrderBy(g => g.Key, StringComparer.Ordinal))
        {
            var values = group.Select(r => (double)(r.FirstSeenMs - r.TimeMs)).ToList();
            Console.WriteLine(Invariant($"{tag}   firstSeenBy {group.Key}: {values.Count} rows, trade time -> firstSeen p50 {Percentile(values, 50) / 1000:0.0} s, p99 {Percentile(values, 99) / 1000:0.0} s, max {values.Max() / 1000:0.0} s"));
        }

        // Dropped stream events: how long REST took to bring them.
        if (setup.DropFraction > 0)
        {
            var byKey = ledger.ToDictionary(r => (r.Account, r.Key));
            var dropped = accounts.SelectMany(a => exchange.DroppedStreamEvents(FakeExchangeProcess.KeyOf(a)).Select(k => (a, k))).ToList();
            var recovered = dropped.Where(byKey.ContainsKey).Select(d => byKey[d]).ToList();
            var recovery = recovered.Select(r => (r.FirstSeenMs - r.TimeMs) / 1000.0).ToList();
            var droppedShare = (double)dropped.Count / Math.Max(1, fakeKeys.Count);
            Console.WriteLine(Invariant($"{tag} dropped stream events: {dropped.Count} ({droppedShare:P1} of the trades), {recovered.Count} in the ledger, by ")
                + string.Join(", ", recovered.GroupBy(r => r.FirstSeenBy).Select(g => $"{g.Key} {g.Count()}"))
                + (recovery.Count > 0 ? Invariant($"; trade time -> firstSeen p50 {Percentile(recovery, 50):0.0} s, p90 {Percentile(recovery, 90):0.0} s, p99 {Percentile(recovery, 99):0.0} s, max {recovery.Max():0.0} s") : string.Empty));
        }

        // REST weight per calendar minute (the fake's limiter counts by calendar minute), from the fake's request log.
        var requests = exchange.Requests.Where(r => r.Path.StartsWith("/fapi/", StringComparison.Ordinal)).ToList();
        var perMinute = requests
            .GroupBy(r => r.Time.ToUnixTimeMilliseconds() / 60_000)
            .OrderBy(g => g.Key)
            .Select(g => (Minute: g.Key, Weight: g.Sum(WeightOf), Reads: g.Count(r => r.Path == "/fapi/v1/userTrades"), Refused: g.Count(r => r.StatusCode is 429 or 418)))
            .ToList();
        var firstFull = (startedMs / 60_000) + 1;
        var lastFull = (generatedEndMs / 60_000) - 1;
        var steady = perMinute.Where(m => m.Minute >= firstFull && m.Minute <= lastFull).ToList();
        Console.WriteLine($"{tag} REST weight per calendar minute (silo up at {Clock(startedMs)}, generation ended {Clock(generatedEndMs)}): "
            + string.Join(", ", perMinute.Select(m => $"{Clock(m.Minute * 60_000)} {m.Weight}{(m.Refused > 0 ? $" ({m.Refused} refused)" : string.Empty)}")));
        if (steady.Count > 0)
        {
            var weights = steady.Select(m => (double)m.Weight).ToList();
            Console.WriteLine(Invariant($"{tag} weight in the {steady.Count} full minutes while generating: median {Percentile(weights, 50):0}, max {weights.Max():0} per minute ")
                + Invariant($"({Percentile(weights, 50) / 2400:P0} / {weights.Max() / 2400:P0} of 2400); 429/418 answers in the run: {requests.Count(r => r.StatusCode is 429 or 418)}"));
        }

        // What the userTrades requests were while generating: by kind (an id read or a time-window read) and by answer.
        var generating = requests.Where(r => r.Path == "/fapi/v1/userTrades" && r.Time.ToUnixTimeMilliseconds() >= startedMs + 60_000 && r.Time.ToUnixTimeMilliseconds() < generatedEndMs).ToList();
        Console.WriteLine($"{tag} userTrades requests after the first minute while generating: {generating.Count}; "
            + string.Join(", ", generating.GroupBy(r => (Kind: r.Query.Contains("fromId=", StringComparison.Ordinal) ? "by id" : r.Query.Contains("startTime=", StringComparison.Ordinal) ? "by time" : "other", r.StatusCode))
                .OrderBy(g => g.Key.Kind).ThenBy(g => g.Key.StatusCode).Select(g => $"{g.Key.Kind} HTTP {g.Key.StatusCode}: {g.Count()}"))
            + "; other /fapi/ requests: "
            + string.Join(", ", requests.Where(r => r.Path != "/fapi/v1/userTrades" && r.Time.ToUnixTimeMilliseconds() >= startedMs + 60_000 && r.Time.ToUnixTimeMilliseconds() < generatedEndMs)
                .GroupBy(r => (r.Method, r.Path, r.StatusCode)).Select(g => $"{g.Key.Method} {g.Key.Path} HTTP {g.Key.StatusCode}: {g.Count()}")));

        // Reconciliation rounds from the request log: from a start time t, the time until every pair has been read at least once.
        var reads = requests.Where(r => r.Path == "/fapi/v1/userTrades" && r.StatusCode == 200)
            .GroupBy(r => (r.ApiKey ?? string.Empty, SymbolOf(r.Query)))
            .ToDictionary(g => g.Key, g => Distinct(g.Select(r => r.Time.ToUnixTimeMilliseconds()).Order()));
        var pairCount = accounts.Count * symbols.Count;
        var rounds = new List<string>();
        var roundSeconds = new List<double>();
        for (var t = startedMs + 60_000; t < generatedEndMs; t += 60_000)
        {
            var firstAfter = reads.Values.Select(times => times.FirstOrDefault(x => x >= t)).ToList();
            if (reads.Count == pairCount && firstAfter.All(x => x > 0))
            {
                var seconds = (firstAfter.Max() - t) / 1000.0;
                roundSeconds.Add(seconds);
                rounds.Add(Invariant($"{Clock(t)} {seconds:0} s"));
            }
            else
            {
                rounds.Add($"{Clock(t)} incomplete ({firstAfter.Count(x => x > 0)} of {pairCount} pairs read before the end)");
            }
        }

        var pairGaps = reads.Values.SelectMany(times => times.Zip(times.Skip(1), (a, b) => (b - a) / 1000.0)
            .Where((_, i) => times[i] >= startedMs + 60_000)).ToList();
        Console.WriteLine($"{tag} full round over all {pairCount} pairs from the request log (time until every pair has been read once more, from t): {string.Join(", ", rounds)}");
        if (pairGaps.Count > 0)
        {
            Console.WriteLine(Invariant($"{tag} gap between two reads of one pair after the first minute: p50 {Percentile(pairGaps, 50):0} s, p90 {Percentile(pairGaps, 90):0} s, max {pairGaps.Max():0} s ({pairGaps.Count} gaps; {reads.Count} pairs read)"));
        }

        // What the silo says: reconcile_round_s per account in /healthz.
        foreach (var sample in healthSamples.TakeLast(1))
        {
            var values = RoundPattern().Matches(sample).Select(m => m.Groups[1].Value).GroupBy(v => v).Select(g => $"{g.Key} x{g.Count()}");
            Console.WriteLine($"{tag} /healthz reconcile_round_s at the end: {string.Join(", ", values)}");
            var reconnects = ReconnectsPattern().Matches(sample).Select(m => long.Parse(m.Groups[1].Value, CultureInfo.InvariantCulture)).ToList();
            if (reconnects.Count > 0)
            {
                Console.WriteLine($"{tag} /healthz stream reconnects at the end: {reconnects.Sum()} over {reconnects.Count} accounts (max {reconnects.Max()})");
            }
        }

        Console.WriteLine($"{tag} run from silo up to end: {(endMs - startedMs) / 60_000.0:0.0} min");
    }

    /// <summary>One poll of a pair may send several requests (pages, the re-scan window) within a moment: those are one read.</summary>
    private static long[] Distinct(IEnumerable<long> ordered)
    {
        var reads = new List<long>();
        foreach (var at in ordered)
        {
            if (reads.Count == 0 || at - reads[^1] > 2_000)
            {
                reads.Add(at);
            }
        }

        return [.. reads];
    }

    private static int WeightOf(FakeRequestRecord request) => request.Path == "/fapi/v1/userTrades" ? UserTradesWeight : 1;

    private static string SymbolOf(string query)
    {
        foreach (var part in query.Split('&'))
        {
            if (part.StartsWith("symbol=", StringComparison.Ordinal))
            {
                return part["symbol=".Length..];
            }
        }

        return string.Empty;
    }

    private static async Task ScrapeLoopAsync(HttpClient http, TimeSpan every, List<(long AtMs, long Count)> scrapes, CancellationToken stop)
    {
        using var timer = new PeriodicTimer(every);
        try
        {
            do
            {
                try
                {
                    var text = await http.GetStringAsync("metrics", stop);

                    // The time the answer arrived: the count it shows was taken before, so this never reports a fill early.
                    var at = Now();
                    lock (scrapes)
                    {
                        scrapes.Add((at, (long)Sum(text, "grinder_fills_total")));
                    }
                }
                catch (Exception error) when (error is HttpRequestException || (error is TaskCanceledException && !stop.IsCancellationRequested))
                {
                    // A missed scrape only widens the resolution; the gaps are reported.
                }
            }
            while (await timer.WaitForNextTickAsync(stop));
        }
        catch (OperationCanceledException) when (stop.IsCancellationRequested)
        {
            // Done.
        }
    }

    private static async Task HealthLoopAsync(HttpClient http, List<string> samples, CancellationToken stop)
    {
        try
        {
            while (!stop.IsCancellationRequested)
            {
                await Task.Delay(TimeSpan.FromSeconds(60), stop);
                try
                {
                    // 503 too: the body still names every account's round.
                    using var answer = await http.GetAsync("healthz", stop);
                    samples.Add(await answer.Content.ReadAsStringAsync(stop));
                }
                catch (Exception error) when (error is HttpRequestException || (error is TaskCanceledException && !stop.IsCancellationRequested))
                {
                    // A lost sample; the next one follows.
                }
            }
        }
        catch (OperationCanceledException) when (stop.IsCancellationRequested)
        {
            // Done.
        }
    }

    private static async Task<IReadOnlyList<LedgerRow>> ReadLedgerAsync(HttpClient http, IReadOnlyList<string> accounts)
    {
        var rows = new List<LedgerRow>();
        foreach (var account in accounts)
        {
            string? after = null;
            do
            {
                var url = $"fills?account={account}&limit=1000" + (after is null ? string.Empty : "&after=" + Uri.EscapeDataString(after));
                using var page = JsonDocument.Parse(await http.GetStringAsync(url));
                foreach (var fill in page.RootElement.GetProperty("fills").EnumerateArray())
                {
                    rows.Add(new LedgerRow(
                        account,
                        new FakeTradeKey(fill.GetProperty("symbol").GetString()!, fill.GetProperty("id").GetInt64(), fill.GetProperty("side").GetString()!),
                        fill.GetProperty("time").GetInt64(),
                        fill.GetProperty("firstSeen").GetInt64(),
                        fill.GetProperty("firstSeenBy").GetString()!));
                }

                var next = page.RootElement.GetProperty("next");
                after = next.ValueKind == JsonValueKind.Null ? null : next.GetString();
            }
            while (after is not null);
        }

        return rows;
    }

    /// <summary>Sum of every series of one family in the text exposition.</summary>
    private static double Sum(string text, string family)
    {
        var sum = 0.0;
        foreach (var line in text.Split('\n'))
        {
            if (line.StartsWith(family, StringComparison.Ordinal) && line.Length > family.Length && (line[family.Length] == '{' || line[family.Length] == ' '))
            {
                var value = line[(line.LastIndexOf(' ') + 1)..];
                sum += double.Parse(value, CultureInfo.InvariantCulture);
            }
        }

        return sum;
    }

    private static long Now() => DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();

    private static string Clock(long ms) => DateTimeOffset.FromUnixTimeMilliseconds(ms).ToString("HH:mm:ss", CultureInfo.InvariantCulture);

    private static string LoadAverage() => File.Exists("/proc/loadavg") ? string.Join(' ', File.ReadAllText("/proc/loadavg").Split(' ').Take(3)) : "unknown";

    [GeneratedRegex("\"reconcile_round_s\":\\s*([0-9.]+|null)")]
    private static partial Regex RoundPattern();

    [GeneratedRegex("\"reconnects\":\\s*([0-9]+)")]
    private static partial Regex ReconnectsPattern();

    /// <summary>The 1-minute load average every 30 s, so a figure can be read against what else ran on the machine.</summary>
    private sealed class LoadSampler : IDisposable
    {
        private readonly List<double> _samples = [];
        private readonly Timer _timer;

        public LoadSampler()
        {
            _timer = new Timer(_ => Sample(), null, TimeSpan.Zero, TimeSpan.FromSeconds(30));
        }

        public string Summary()
        {
            lock (_samples)
            {
                return _samples.Count == 0 ? "none" : Invariant($"median {Percentile(_samples, 50):0.0}, min {_samples.Min():0.0}, max {_samples.Max():0.0} ({_samples.Count} samples)");
            }
        }

        public void Dispose() => _timer.Dispose();

        private void Sample()
        {
            if (double.TryParse(LoadAverage().Split(' ')[0], NumberStyles.Float, CultureInfo.InvariantCulture, out var value))
            {
                lock (_samples)
                {
                    _samples.Add(value);
                }
            }
        }
    }
}
