using System.Diagnostics;
using System.Globalization;
using Grinder.FakeBinance;
using Grinder.Grains;
using Grinder.Grains.Ingest;
using Grinder.Silo.Hosting;
using Grinder.Tests.Infrastructure;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Npgsql;
using Orleans.Configuration;
using static Grinder.Benchmarks.BenchReport;

namespace Grinder.Benchmarks;

/// <summary>
/// Failover: several real silo processes (<c>dotnet Grinder.Silo.dll</c>) on one PostgreSQL database, with production
/// membership settings. After every account has polled, the silo holding the most accounts gets SIGKILL; the time
/// until each of its accounts has saved a new poll is read from the database (reading never activates a grain, so the
/// measurement cannot help the recovery along).
/// </summary>
internal static class FailoverBenchmark
{
    private const string ClusterId = "grinder";
    private const int Dead = 6;
    private static readonly TimeSpan Bar = TimeSpan.FromSeconds(60);

    public static async Task<int> RunAsync(BenchArgs args)
    {
        var count = args.Int("accounts", 30);
        var siloCount = args.Int("silos", 3);
        var pollInterval = args.Duration("poll-interval", new IngestOptions().PollInterval);
        var keeperInterval = args.Duration("keeper-interval", new IngestOptions().KeeperInterval);
        var timeout = args.Duration("timeout", TimeSpan.FromMinutes(3));
        args.RejectUnknown();
        Header("failover", args);
        Console.WriteLine($"setup: {siloCount} silo processes (PostgreSQL clustering and storage, Orleans default membership settings), {count} accounts x 1 symbol, "
            + $"poll interval {Format(pollInterval)}, keeper interval {Format(keeperInterval)}, fake exchange in the harness process (no trades); the victim gets SIGKILL");

        var accounts = SiloSettings.AccountNames("fo-", count);
        await using var exchange = await FakeExchange.StartAsync(new FakeExchangeOptions { WeightLimitPerMinute = 1_000_000_000 });
        foreach (var account in accounts)
        {
            exchange.AddAccount(FakeExchangeProcess.KeyOf(account), FakeExchangeProcess.SecretOf(account));
        }

        await using var database = await (await PostgresServer.GetAsync()).CreateDatabaseAsync();
        var environment = SiloSettings.Ingest(exchange.BaseUrl, pollInterval).WithAccounts(accounts, "BTCUSDT");
        environment["GRINDER_POSTGRES"] = database.ConnectionString;
        environment["Grinder:Ingest:KeeperInterval"] = keeperInterval.ToString("c", CultureInfo.InvariantCulture);
        environment["ASPNETCORE_URLS"] = "http://127.0.0.1:0";

        var silos = new List<(int SiloPort, SiloProcess Process)>();
        try
        {
            for (var i = 0; i < siloCount; i++)
            {
                var own = new Dictionary<string, string?>(environment)
                {
                    ["Grinder:Orleans:SiloPort"] = FreePorts.Next().ToString(CultureInfo.InvariantCulture),
                    ["Grinder:Orleans:GatewayPort"] = FreePorts.Next().ToString(CultureInfo.InvariantCulture),
                };
                silos.Add((int.Parse(own["Grinder:Orleans:SiloPort"]!, CultureInfo.InvariantCulture), SiloProcess.Start(own.AsEnvironment())));
            }

            // The silos create the schema as they start.
            var startup = await WaitAsync(
                async () =>
                {
                    try
                    {
                        return (await MembersAsync(database)).Count(m => m.Status == 3) == siloCount;
                    }
                    catch (PostgresException error) when (error.SqlState == PostgresErrorCodes.UndefinedTable)
                    {
                        return false;
                    }
                },
                TimeSpan.FromMinutes(3),
                $"{siloCount} active silos");
            Console.WriteLine($"{siloCount} silos active after {startup.TotalSeconds:0.0} s");
            await WaitAsync(async () => (await PollsAsync(database)).Values.Count(p => p >= 2) == count, TimeSpan.FromMinutes(3), "every account's second poll");

            var holders = await LocateAsync(database.ConnectionString, accounts);
            foreach (var (port, _) in silos)
            {
                Console.WriteLine($"silo port {port}: {holders.Count(h => h.Value == port)} accounts");
            }

            var victimPort = silos.Select(s => s.SiloPort).MaxBy(port => holders.Count(h => h.Value == port));
            var victims = holders.Where(h => h.Value == victimPort).Select(h => h.Key).ToList();
            if (victims.Count == 0)
            {
                throw new InvalidOperationException("no silo holds an account");
            }

            var victim = silos.Single(s => s.SiloPort == victimPort);
            var killedAt = Stopwatch.GetTimestamp();
            await victim.Process.DisposeAsync();
            silos.Remove(victim);
            var killed = Stopwatch.GetElapsedTime(killedAt);

            // Read after the process is gone: no later save can come from the victim.
            var atKill = await PollsAsync(database);
            var recovered = new Dictionary<string, TimeSpan>();
            TimeSpan? declaredDead = null;
            while (recovered.Count < victims.Count && Stopwatch.GetElapsedTime(killedAt) < timeout)
            {
                var now = await PollsAsync(database);
                var elapsed = Stopwatch.GetElapsedTime(killedAt);
                foreach (var account in victims.Where(a => !recovered.ContainsKey(a) && now[a] > atKill[a]))
                {
                    recovered[account] = elapsed;
                }

                if (declaredDead is null && (await MembersAsync(database)).Any(m => m.Port == victimPort && m.Status == Dead))
                {
                    declaredDead = elapsed;
                }

                await Task.Delay(200);
            }

            Console.WriteLine(Invariant($"killed silo port {victimPort} holding {victims.Count} of {count} accounts (SIGKILL took {killed.TotalMilliseconds:0} ms)"));
            Console.WriteLine(declaredDead is { } dead
                ? Invariant($"membership declared it dead after {dead.TotalSeconds:0.0} s")
                : "membership did not declare it dead within the timeout");
            if (recovered.Count < victims.Count)
            {
                Console.WriteLine(Invariant($"NOT RECOVERED within {timeout.TotalSeconds:0} s: {victims.Count - recovered.Count} of {victims.Count} accounts"));
                return 1;
            }

            var times = recovered.Values.Select(t => t.TotalSeconds).ToList();
            var all = times.Max();
            Console.WriteLine(Invariant($"accounts polling again after: first {times.Min():0.0} s, median {Percentile(times, 50):0.0} s, last {all:0.0} s"));
            Console.WriteLine(Invariant($"failover (kill to every account polling again): {all:0.0} s = {all / Bar.TotalSeconds:0.00} of the 60 s bar; ")
                + Invariant($"keeper interval / poll interval = {keeperInterval / pollInterval:0.0}"));
            return 0;
        }
        finally
        {
            foreach (var (_, process) in silos)
            {
                await process.DisposeAsync();
            }
        }
    }

    /// <summary>Polls per account as last saved (the operators' view: psql on the state table).</summary>
    private static async Task<Dictionary<string, long>> PollsAsync(PostgresDatabase database) =>
        (await database.QueryAsync("SELECT grain_key, (state->>'Polls')::bigint FROM grinder_grain_state_json WHERE state_name = 'ingest'"))
            .ToDictionary(row => ConfiguredAccount.AccountIdFromGrainKey((string)row[0]!), row => (long)row[1]!);

    private static async Task<List<(int Port, int Status)>> MembersAsync(PostgresDatabase database) =>
        [.. (await database.QueryAsync("SELECT port, status FROM grinder_cluster_member WHERE deployment_id = @cluster", ("cluster", ClusterId)))
            .Select(row => ((int)row[0]!, (int)row[1]!))];

    /// <summary>Silo port of each account's activation, asked of the cluster's directory by a client (the lookup activates nothing).</summary>
    private static async Task<Dictionary<string, int>> LocateAsync(string connectionString, IReadOnlyList<string> accounts)
    {
        var builder = Host.CreateApplicationBuilder();
        builder.Logging.ClearProviders();
        builder.UseOrleansClient(client =>
        {
            client.UseAdoNetClustering(options =>
            {
                options.Invariant = PostgresHostingExtensions.Invariant;
                options.ConnectionString = connectionString;
            });
            client.Configure<ClusterOptions>(options =>
            {
                options.ClusterId = ClusterId;
                options.ServiceId = "grinder";
            });
        });
        using var host = builder.Build();
        await host.StartAsync();
        try
        {
            var grains = host.Services.GetRequiredService<IClusterClient>();
            var management = grains.GetGrain<IManagementGrain>(0);
            var located = new Dictionary<string, int>();
            foreach (var account in accounts)
            {
                var address = await management.GetActivationAddress(grains.GetGrain<IFillIngestGrain>(ConfiguredAccount.GrainKeyFor(account)));
                located[account] = address?.Endpoint.Port ?? -1;
            }

            return located;
        }
        finally
        {
            await host.StopAsync();
        }
    }
}
