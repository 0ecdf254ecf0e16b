using System.Diagnostics;
using System.Globalization;
using System.Text.RegularExpressions;
using Grinder.FakeBinance;
using Grinder.Grains;
using Grinder.Grains.Binance;
using Grinder.Grains.Ingest;
using Grinder.Silo.Metrics;
using Grinder.Tests.Infrastructure;
using Grinder.Tests.Ingest;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Orleans.Runtime;
using Orleans.TestingHost;
using Xunit.Abstractions;

namespace Grinder.Tests.Chaos;

/// <summary>
/// The chaos test: three silos on PostgreSQL count the fills of many accounts from a faulty exchange while
/// trades keep arriving, silos are killed and replaced and PostgreSQL restarts. Afterwards every account counted exactly
/// the valid trades the exchange served, and during the run no counter, scrape or stored cursor ever went backwards.
/// </summary>
[Collection(ChaosCollection.Name)]
public sealed partial class ChaosTests(ITestOutputHelper output)
{
    /// <summary>docs/architecture.md "Never stops polling": after a silo is killed, all its accounts poll again on a survivor within 60 s.</summary>
    private static readonly TimeSpan FailoverBar = TimeSpan.FromSeconds(60);
    private static readonly TimeSpan SettleTimeout = TimeSpan.FromSeconds(90);
    private readonly Stopwatch _clock = Stopwatch.StartNew();
    private string _crashedOutput = string.Empty;

    [Fact]
    public async Task Every_valid_fill_is_counted_once_while_silos_die_and_PostgreSQL_restarts()
    {
        var plan = ChaosPlan.Current;
        Say($"plan {plan}");
        var server = await PostgresServer.StartDedicatedAsync();
        var database = await server.CreateDatabaseAsync();
        var logs = new LogCapture();
        FakeExchange? exchange = null;
        SiloProcess? process = null;
        TestCluster? cluster = null;
        ChaosRun? run = null;
        try
        {
            exchange = await FakeExchange.StartAsync(new FakeExchangeOptions
            {
                WeightLimitPerMinute = 10_000_000,
                Symbols = [.. plan.Symbols],
                RandomFaults = new FakeRandomFaultOptions
                {
                    Seed = plan.Seed,
                    ServerError = 0.05,
                    RateLimited = 0.02,
                    RetryAfterSeconds = 1,
                    Timeout = 0.01,
                    TimeoutDelay = TimeSpan.FromSeconds(3),
                    Malformed = 0.01,
                },
            });
            var accounts = Enumerable.Range(0, plan.Accounts).Select(ChaosAccount.Create).ToList();
            foreach (var account in accounts)
            {
                exchange.AddAccount(account.ApiKey, account.ApiSecret);
            }

            var flow = new ChaosTradeFlow(exchange, accounts, plan);
            flow.AddHistory(tradesPerSymbol: 10);
            run = new ChaosRun(plan, database.ConnectionString, exchange.BaseUrl);

            // Three silos: the silo process starts alone, so every account and the metrics grain are activated on it;
            // then two TestCluster silos join and the accounts they own move to them (rendezvous placement). Every silo
            // lost later is replaced by a TestCluster silo.
            process = ChaosCluster.StartSiloProcess(run, accounts);
            await WaitUntilSavedAsync(database, accounts, new Dictionary<string, long>(), TimeSpan.FromSeconds(90), "every account's first poll on the silo process", process);
            Say("silo process up and polling every account");
            cluster = await ChaosCluster.StartAsync(run, accounts, logs, silos: 2);
            Say($"2 TestCluster silos joined; {exchange.Requests.Count} exchange requests so far");

            var exporter = new FillMetricsExporter(cluster.Client, Options.Create(new IngestOptions { Enabled = true }), TimeProvider.System);
            var monitor = new ChaosMonitor(cluster.Client, database);
            monitor.Start();
            flow.Start();
            var chaos = Stopwatch.StartNew();
            var failovers = new List<TimeSpan>();
            var kills = 0;
            for (var i = 0; i < plan.Disruptions.Count; i++)
            {
                var due = plan.ChaosDuration * (i + 1) / (plan.Disruptions.Count + 1);
                if (due > chaos.Elapsed)
                {
                    await Task.Delay(due - chaos.Elapsed);
                }

                // From the blow until the cluster is whole again, samples may fail; outside, a failed sample is a violation.
                using var disruption = monitor.Disruption();
                switch (plan.Disruptions[i])
                {
                    case ChaosDisruption.CrashSiloProcess:
                        var crashed = process ?? throw new InvalidOperationException("the plan crashes the silo process twice");
                        process = null;
                        failovers.Add(await CrashSiloProcessAsync(cluster, database, accounts, crashed));
                        break;
                    case ChaosDisruption.KillSilo:
                        // The first kill takes the silo of the metrics grain if a TestCluster silo holds it: its
                        // re-activation must not serve lower counters.
                        failovers.Add(await KillSiloAsync(cluster, database, accounts, killMetricsHost: kills++ == 0));
                        break;
                    case ChaosDisruption.RestartPostgres:
                        await RestartPostgresAsync(server, database, accounts);
                        break;
                }
            }

            if (plan.ChaosDuration > chaos.Elapsed)
            {
                await Task.Delay(plan.ChaosDuration - chaos.Elapsed);
            }

            await flow.StopAsync();
            Say($"trade flow stopped after {chaos.Elapsed.TotalSeconds:0.0} s of chaos: {flow.Batches} batches, {flow.InvalidRows.Count} invalid rows");

            var settled = Stopwatch.StartNew();
            await Eventually.TrueAsync(
                async () => (await CountedAsync(cluster, accounts)).All(pair => pair.Value == exchange.ValidTradeCount(pair.Key.ApiKey)),
                SettleTimeout,
                "every account to count exactly the exchange's valid trades");
            Say($"settled in {settled.Elapsed.TotalSeconds:0.0} s");

            // Invalid rows reach only REST: wait for a reconciliation read of every symbol after the flow stopped.
            var stoppedAt = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();
            foreach (var account in accounts)
            {
                var grain = cluster.Client.GetGrain<IFillIngestGrain>(account.GrainKey);
                await Eventually.ReturnsAsync(grain.GetHealthAsync, health => health.Symbols.All(symbol => symbol.LastRestReadMs > stoppedAt), SettleTimeout, $"a REST read of every symbol of {account.Id}");
            }

            // Two more saved polls of every account: a late double count would show now.
            await WaitUntilSavedAsync(database, accounts, await IngestExpectations.StoredPollsAsync(database), TimeSpan.FromSeconds(30), "another saved poll of every account");
            await WaitUntilSavedAsync(database, accounts, await IngestExpectations.StoredPollsAsync(database), TimeSpan.FromSeconds(30), "another saved poll of every account");
            await monitor.StopAsync();
            Report(exchange, accounts, flow, monitor, failovers, logs);

            await AssertEveryFillCountedOnceAsync(cluster, database, exchange, accounts, flow);
            await AssertMetricsAgreeAsync(cluster, exporter, exchange, accounts);

            Assert.True(monitor.AggregateSamples >= plan.ChaosDuration.TotalSeconds, $"only {monitor.AggregateSamples} samples of the metrics aggregate");
            Assert.True(monitor.StateSamples >= plan.ChaosDuration.TotalSeconds, $"only {monitor.StateSamples} samples of the stored state");
            Assert.Equal(accounts.Count * plan.Symbols.Count, monitor.CursorSeries);
            Assert.True(monitor.Violations.Count == 0, "counters, scrapes or stored cursors went backwards or vanished, or a sample failed outside a disruption:\n" + monitor.ViolationReport(each: 10));
            Assert.Empty(exchange.WriteAttempts);
            AssertFaultMixServed(exchange);
            AssertNoSecretLogged(logs, _crashedOutput, accounts);
            Assert.All(failovers, failover => Assert.True(failover <= FailoverBar, $"failover took {failover.TotalSeconds:0.0} s (bar {FailoverBar.TotalSeconds:0} s)"));
        }
        finally
        {
            if (process is not null)
            {
                await process.DisposeAsync();
            }

            if (cluster is not null)
            {
                await cluster.StopAllSilosAsync();
                await cluster.DisposeAsync();
            }

            if (run is not null)
            {
                ChaosCluster.Release(run);
            }

            if (exchange is not null)
            {
                await exchange.DisposeAsync();
            }

            await database.DisposeAsync();
            await server.StopAsync();
            Say("cleaned up");
        }
    }

    /// <summary>SIGKILLs the silo process, which holds the metrics grain and its share of the accounts, then as <see cref="FailoverAsync"/>.</summary>
    private async Task<TimeSpan> CrashSiloProcessAsync(TestCluster cluster, PostgresDatabase database, IReadOnlyList<ChaosAccount> accounts, SiloProcess process)
    {
        var (placement, metricsHost) = await PlacementAsync(cluster, accounts);
        var inProcess = cluster.GetActiveSilos().Select(silo => silo.SiloAddress).ToHashSet();
        bool OnProcess(SiloAddress? address) => address is not null && !inProcess.Contains(address);
        Assert.True(OnProcess(metricsHost), "the metrics grain was activated on the silo process, which started alone");

        // DisposeAsync kills the process tree (SIGKILL): no shutdown, nothing announced to the cluster.
        var took = await FailoverAsync(cluster, database, accounts, placement, "the silo process", OnProcess, () => process.DisposeAsync().AsTask());
        _crashedOutput = process.Output;
        return took;
    }

    /// <summary>Kills the TestCluster silo of the metrics grain (or, if not wanted, the one with the most accounts), then as <see cref="FailoverAsync"/>.</summary>
    private async Task<TimeSpan> KillSiloAsync(TestCluster cluster, PostgresDatabase database, IReadOnlyList<ChaosAccount> accounts, bool killMetricsHost)
    {
        var (placement, metricsHost) = await PlacementAsync(cluster, accounts);
        var silos = cluster.GetActiveSilos().ToList();
        var victim = (killMetricsHost ? silos.FirstOrDefault(silo => silo.SiloAddress.Equals(metricsHost)) : null)
            ?? silos.MaxBy(silo => placement.Values.Count(address => silo.SiloAddress.Equals(address)))!;
        var name = victim.Name + (victim.SiloAddress.Equals(metricsHost) ? " (with the metrics grain)" : string.Empty);
        return await FailoverAsync(cluster, database, accounts, placement, name, address => victim.SiloAddress.Equals(address), () => cluster.KillSiloAsync(victim));
    }

    /// <summary>
    /// Where every account grain and the metrics grain are activated now. The cluster client may still hold the gateway
    /// of a silo killed a moment ago (its gateway list follows membership, which declares the silo dead seconds later):
    /// a call routed there fails to connect, so the lookup is repeated until it goes through a live gateway.
    /// </summary>
    private static Task<(Dictionary<ChaosAccount, SiloAddress?> Accounts, SiloAddress? Metrics)> PlacementAsync(TestCluster cluster, IReadOnlyList<ChaosAccount> accounts) =>
        Eventually.ReturnsAsync(() => LookUpPlacementAsync(cluster, accounts), static _ => true, TimeSpan.FromSeconds(60), "a placement lookup through a live gateway");

    private static async Task<(Dictionary<ChaosAccount, SiloAddress?> Accounts, SiloAddress? Metrics)> LookUpPlacementAsync(TestCluster cluster, IReadOnlyList<ChaosAccount> accounts)
    {
        var placed = await Activations.OfAccountsAsync(cluster.Client, accounts.Select(account => account.Id));
        return (accounts.ToDictionary(account => account, account => placed[account.Id]), await Activations.OfMetricsGrainAsync(cluster.Client));
    }

    /// <summary>
    /// Kills a silo, measures until every account it held has saved a poll on a survivor, then starts a replacement
    /// TestCluster silo. Progress is read from storage, so this wait activates no account itself. What does: the keepers,
    /// and, when the killed silo held the metrics grain, its re-activation on the monitor's next sample (it reads every
    /// account). That the keepers alone bring accounts back is FillIngestTests' kill test.
    /// </summary>
    private async Task<TimeSpan> FailoverAsync(
        TestCluster cluster,
        PostgresDatabase database,
        IReadOnlyList<ChaosAccount> accounts,
        IReadOnlyDictionary<ChaosAccount, SiloAddress?> placement,
        string victim,
        Func<SiloAddress?, bool> onVictim,
        Func<Task> kill)
    {
        var moved = accounts.Where(account => onVictim(placement[account])).ToList();
        var failover = Stopwatch.StartNew();
        await kill();
        var baseline = await IngestExpectations.StoredPollsAsync(database);
        Say($"killed {victim}, which held {moved.Count} accounts");
        await WaitUntilSavedAsync(database, moved, baseline, FailoverBar + TimeSpan.FromSeconds(60), $"the accounts of {victim} to poll again");
        var took = failover.Elapsed;
        var (after, _) = await PlacementAsync(cluster, moved);
        Assert.All(after, pair => Assert.False(onVictim(pair.Value), $"{pair.Key.Id} is still placed on {victim}"));

        Say($"failover: all {moved.Count} accounts of {victim} polling again on survivors after {took.TotalSeconds:0.0} s");
        var started = Stopwatch.StartNew();
        var replacement = await cluster.StartAdditionalSiloAsync();
        Say($"replacement {replacement.Name} started in {started.Elapsed.TotalSeconds:0.0} s");
        return took;
    }

    private async Task RestartPostgresAsync(PostgresServer server, PostgresDatabase database, IReadOnlyList<ChaosAccount> accounts)
    {
        var baseline = await IngestExpectations.StoredPollsAsync(database);
        var recovery = Stopwatch.StartNew();
        var down = await server.RestartAsync(database);
        Say($"PostgreSQL restarted: {down.TotalSeconds:0.0} s without connections");
        await WaitUntilSavedAsync(database, accounts, baseline, TimeSpan.FromSeconds(60), "every account to save again after the PostgreSQL restart");
        Say($"every account saved again {recovery.Elapsed.TotalSeconds:0.0} s after the restart began");
    }

    /// <summary>Waits until every account's stored poll count is above <paramref name="baseline"/> (absent: above 0).</summary>
    private static Task WaitUntilSavedAsync(
        PostgresDatabase database, IReadOnlyList<ChaosAccount> accounts, IReadOnlyDictionary<string, long> baseline, TimeSpan timeout, string what, SiloProcess? process = null) =>
        Eventually.TrueAsync(
            async () =>
            {
                if (process?.ExitCode is { } exit)
                {
                    throw new Xunit.Sdk.XunitException($"the silo process exited with {exit}:\n{process.Output}");
                }

                var polls = await IngestExpectations.StoredPollsAsync(database);
                return accounts.All(account => polls.GetValueOrDefault(account.GrainKey) > baseline.GetValueOrDefault(account.GrainKey));
            },
            timeout,
            what);

    private static async Task<Dictionary<ChaosAccount, long>> CountedAsync(TestCluster cluster, IReadOnlyList<ChaosAccount> accounts)
    {
        var counted = new Dictionary<ChaosAccount, long>();
        foreach (var account in accounts)
        {
            counted[account] = IngestExpectations.Count(await cluster.Client.GetGrain<IFillIngestGrain>(account.GrainKey).GetSnapshotAsync());
        }

        return counted;
    }

    private static async Task AssertEveryFillCountedOnceAsync(TestCluster cluster, PostgresDatabase database, FakeExchange exchange, IReadOnlyList<ChaosAccount> accounts, ChaosTradeFlow flow)
    {
        foreach (var account in accounts)
        {
            var served = exchange.Symbols.SelectMany(symbol => exchange.Trades(account.ApiKey, symbol)).ToList();
            var expected = IngestExpectations.Totals(served);
            var grain = cluster.Client.GetGrain<IFillIngestGrain>(account.GrainKey);

            // Exact per (side, liquidity): count, notional, fees and rebates, in memory and as stored.
            IngestExpectations.Equal(expected, (await grain.GetSnapshotAsync()).Fills);
            IngestExpectations.Equal(expected, await ChaosMonitor.StoredFillsAsync(database, account.Id));
            await IngestExpectations.LedgerEqualsExchangeAsync(IngestClusterFixture.LedgerOf(cluster), account.Id, exchange, account.ApiKey);

            // Invalid rows: each one quarantined once under its id, none counted (the totals above hold only valid rows).
            var health = await grain.GetHealthAsync();
            var injected = flow.InvalidRows.Where(row => row.AccountId == account.Id).Select(row => $"{row.Symbol}#{row.Id}").Order();
            var quarantined = health.Quarantine.Select(row => $"{row.Symbol}#{row.TradeId}").Order();
            Assert.Equal(injected, quarantined);
        }
    }

    private static async Task AssertMetricsAgreeAsync(TestCluster cluster, FillMetricsExporter exporter, FakeExchange exchange, IReadOnlyList<ChaosAccount> accounts)
    {
        var expected = IngestExpectations.Totals(accounts.SelectMany(account => exchange.Symbols.SelectMany(symbol => exchange.Trades(account.ApiKey, symbol))))
            .ToDictionary(pair => new FillSeries(FillSource.Reconcile, pair.Key), pair => pair.Value);

        // Accounts report after every poll; the aggregate catches up with the settled counters.
        var aggregate = await Eventually.ReturnsAsync(
            () => cluster.Client.GetGrain<IFillMetricsGrain>(0).GetAggregateAsync(),
            held => expected.All(pair => held.Fills.GetValueOrDefault(pair.Key) == pair.Value),
            TimeSpan.FromSeconds(30),
            "the metrics aggregate to hold every account's settled counters");
        IngestExpectations.Equal(expected, aggregate.Fills);

        // What a scrape shows: counters are only ever raised, so a count that once ran ahead would still show here.
        var scraped = MetricsScrape.Check(await exporter.RenderAsync(CancellationToken.None));
        foreach (var (key, totals) in expected)
        {
            var side = key.Bucket.Side == FillSide.Buy ? "buy" : "sell";
            var liquidity = key.Bucket.Liquidity == FillLiquidity.Maker ? "maker" : "taker";
            Assert.Equal<double?>(totals.Count, scraped.Value("grinder_fills_total", ("source", "reconcile"), ("side", side), ("liquidity", liquidity)));
        }
    }

    private static void AssertFaultMixServed(FakeExchange exchange)
    {
        var faults = exchange.Requests.Where(request => request.Fault is not null).Select(request => request.Fault!.Value).ToList();
        Assert.Contains(faults, fault => fault is FakeFaultKind.Status or FakeFaultKind.ServiceUnavailable503);
        Assert.Contains(FakeFaultKind.RateLimited429, faults);
        Assert.Contains(FakeFaultKind.Delay, faults);
        Assert.Contains(faults, fault => fault is FakeFaultKind.TruncatedJson or FakeFaultKind.HtmlErrorPage);
    }

    /// <summary>Neither the captured logs of the TestCluster silos nor the console of the silo process hold a key, secret or signature.</summary>
    private static void AssertNoSecretLogged(LogCapture logs, string processOutput, IReadOnlyList<ChaosAccount> accounts)
    {
        var lines = logs.Lines.ToList();
        Assert.Contains(lines, line => line.Level == LogLevel.Debug);
        Assert.Contains(lines, line => line.EventName == "FILLS_INGESTED");
        Assert.Contains("FILLS_INGESTED", processOutput, StringComparison.Ordinal);
        Assert.Contains("dbug:", processOutput, StringComparison.Ordinal);
        var secrets = accounts.SelectMany(account => new[] { account.ApiKey, account.ApiSecret }).ToList();
        var leaks = lines
            .Select(line => $"[{line.Category}/{line.EventName}] {line.Message} {line.Exception}")
            .Concat(processOutput.Split('\n'))
            .Where(text => secrets.Any(secret => text.Contains(secret, StringComparison.Ordinal)) || SignatureValue().IsMatch(text))
            .Take(5)
            .ToList();
        Assert.True(leaks.Count == 0, $"secrets in log lines, e.g.:\n{string.Join('\n', leaks)}");
    }

    private void Report(FakeExchange exchange, IReadOnlyList<ChaosAccount> accounts, ChaosTradeFlow flow, ChaosMonitor monitor, IReadOnlyList<TimeSpan> failovers, LogCapture logs)
    {
        var requests = exchange.Requests.Where(request => request.Path == "/fapi/v1/userTrades").ToList();
        var faults = requests.Where(request => request.Fault is not null).GroupBy(request => request.Fault!.Value).OrderBy(group => group.Key)
            .Select(group => $"{group.Key} {group.Count()}");
        var fills = accounts.Sum(account => exchange.ValidTradeCount(account.ApiKey));
        var selfTrades = accounts.Sum(account => exchange.Symbols.Sum(symbol => exchange.Trades(account.ApiKey, symbol).GroupBy(trade => trade.Id).Count(group => group.Count() == 2)));
        Say($"valid fills served {fills} (self-trade pairs {selfTrades}), invalid rows served {flow.InvalidRows.Count}");
        Say($"userTrades requests {requests.Count}, faults injected {requests.Count(request => request.Fault is not null)}: {string.Join(", ", faults)}");
        var events = new[] { "FILL_CURSOR_SAVE_ERROR", "FILL_CURSOR_SAVE_CONFLICT", "FILL_CURSOR_REJECTED_NON_MONOTONIC", "FILL_CURSOR_LOAD_ERROR" }
            .Select(name => $"{name} {logs.Event(name).Count() + _crashedOutput.Split('\n').Count(line => line.Contains(name, StringComparison.Ordinal))}");
        Say($"ingest events: {string.Join(", ", events)}");
        Say($"failover seconds: {string.Join(", ", failovers.Select(failover => failover.TotalSeconds.ToString("0.0", CultureInfo.InvariantCulture)))}");
        Say($"samples: aggregate {monitor.AggregateSamples}, scrapes {monitor.ScrapeSamples}, stored state {monitor.StateSamples} ({monitor.SampleErrors.Count} failed while parts were down); log lines {logs.Lines.Count} captured, {_crashedOutput.Split('\n').Length} from the silo process");
    }

    private void Say(string message) =>
        output.WriteLine(string.Create(CultureInfo.InvariantCulture, $"[{_clock.Elapsed.TotalSeconds,6:0.0}s] {message}"));

    /// <summary>A signature value as sent in a signed query: 64 lowercase hex digits (HMAC-SHA256, Binance docs).</summary>
    [GeneratedRegex("signature=[0-9a-fA-F]{16,}")]
    private static partial Regex SignatureValue();
}

/// <summary>The chaos test runs alone: it restarts its PostgreSQL server and needs the machine's two cores for its own silos.</summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class ChaosCollection
{
    public const string Name = "Chaos";
}
