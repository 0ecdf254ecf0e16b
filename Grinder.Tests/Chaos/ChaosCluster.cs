using System.Collections.Concurrent;
using System.Globalization;
using Grinder.Grains.Ingest;
using Grinder.Silo.Hosting;
using Grinder.Tests.Infrastructure;
using Microsoft.Extensions.Logging;
using Orleans.TestingHost;

namespace Grinder.Tests.Chaos;

/// <summary>One account of the chaos run; key and secret are random, so finding either in a log line can only be a leak.</summary>
public sealed record ChaosAccount(string Id, string ApiKey, string ApiSecret)
{
    public static ChaosAccount Create(int index) => new(
        "chaos-" + index.ToString("00", CultureInfo.InvariantCulture),
        Convert.ToHexStringLower(Guid.NewGuid().ToByteArray()) + Convert.ToHexStringLower(Guid.NewGuid().ToByteArray()),
        Convert.ToHexStringLower(Guid.NewGuid().ToByteArray()) + Convert.ToHexStringLower(Guid.NewGuid().ToByteArray()));

    public string GrainKey => ConfiguredAccount.GrainKeyFor(Id);
}

/// <summary>What every silo of one chaos run shares: plan, database, exchange and cluster identity.</summary>
public sealed record ChaosRun(ChaosPlan Plan, string ConnectionString, Uri Exchange)
{
    public string Id { get; } = Guid.NewGuid().ToString("N");

    public string ClusterId => "chaos-" + Id[..8];

    public string ServiceId => "grinder-chaos-" + Id[..8];
}

/// <summary>
/// The chaos cluster: classic TestCluster silos composed like the production silo in PostgreSQL mode (as
/// <c>IngestClusterFixture</c> does), ingest on, every silo logging into one <see cref="LogCapture"/> down to Debug.
/// Silos started later (<see cref="TestCluster.StartAdditionalSiloAsync(bool)"/>) are composed the same way.
/// </summary>
public static class ChaosCluster
{
    private const string RunKey = "GrinderTests:ChaosRun";
    private const string PostgresKey = "GrinderTests:Postgres";
    private static readonly ConcurrentDictionary<string, LogCapture> Captures = new();

    /// <summary>
    /// A production silo (<c>dotnet Grinder.Silo.dll</c>, PostgreSQL mode) joining the same cluster: the one silo that can
    /// really crash. A TestCluster silo "killed" in-process still marks itself dead in the membership table on the way
    /// out, so its failover needs no failure detection at all; a killed process announces nothing.
    /// </summary>
    public static SiloProcess StartSiloProcess(ChaosRun run, IReadOnlyList<ChaosAccount> accounts)
    {
        var environment = new Dictionary<string, string?>
        {
            ["GRINDER_POSTGRES"] = run.ConnectionString,
            ["FILL_INGEST_ENABLED"] = "1",
            ["ASPNETCORE_URLS"] = $"http://127.0.0.1:{FreePorts.Next()}",
            ["Grinder__Orleans__ClusterId"] = run.ClusterId,
            ["Grinder__Orleans__ServiceId"] = run.ServiceId,
            ["Grinder__Orleans__SiloPort"] = FreePorts.Next().ToString(CultureInfo.InvariantCulture),
            ["Grinder__Orleans__GatewayPort"] = FreePorts.Next().ToString(CultureInfo.InvariantCulture),

            // Console logging down to Debug, scanned for secrets like the captured logs of the other silos.
            ["Logging__LogLevel__Default"] = "Debug",
            ["Logging__LogLevel__Orleans"] = "Debug",
            ["Logging__LogLevel__Microsoft.AspNetCore"] = "Debug",
        };
        foreach (var (key, value) in Settings(run, accounts))
        {
            environment[key.Replace(":", "__", StringComparison.Ordinal)] = value;
        }

        return SiloProcess.Start(environment);
    }

    public static async Task<TestCluster> StartAsync(ChaosRun run, IReadOnlyList<ChaosAccount> accounts, LogCapture logs, int silos)
    {
        Captures[run.Id] = logs;
        var builder = new TestClusterBuilder((short)silos);
        builder.Options.UseTestClusterMembership = false;

        // Real sockets: the silo process must reach these silos (the test cluster's default transport is in-memory).
        builder.Options.ConnectionTransport = ConnectionTransportType.TcpSocket;
        builder.Options.ClusterId = run.ClusterId;
        builder.Options.ServiceId = run.ServiceId;
        builder.Properties[PostgresKey] = run.ConnectionString;
        builder.Properties[RunKey] = run.Id;
        builder.Properties["Grinder:Ingest:Enabled"] = "true";
        foreach (var (key, value) in Settings(run, accounts))
        {
            builder.Properties[key] = value;
        }

        builder.AddSiloBuilderConfigurator<SiloConfigurator>();
        builder.AddClientBuilderConfigurator<ClientConfigurator>();
        var cluster = builder.Build();
        await cluster.DeployAsync();
        return cluster;
    }

    /// <summary>Settings every silo of the run shares, in-process or not.</summary>
    private static IEnumerable<(string Key, string Value)> Settings(ChaosRun run, IReadOnlyList<ChaosAccount> accounts)
    {
        yield return ("Grinder:Ingest:PollInterval", "00:00:01");
        yield return ("Grinder:Ingest:KeeperInterval", "00:00:02");
        yield return ("Grinder:Binance:BaseUrl", run.Exchange.ToString());

        // The fake delays "timeout" answers by 3 s; the client must give up first.
        yield return ("Grinder:Binance:RequestTimeout", "00:00:02");

        // Sixty (account, symbol) pairs polled every second on one IP exceed Binance's real 2,400/min; the governor at
        // its limit has its own tests, here it must not be what slows ingest down.
        yield return ("Grinder:Binance:WeightLimitPerMinute", "10000000");

        // Both feeders under chaos: every account streams (real WebSockets to the fake, dropped with each killed silo),
        // and REST reconciles every 3 s, so invalid rows (which only REST serves) are read soon after they appear.
        yield return ("Grinder:Stream:Enabled", "true");
        yield return ("Grinder:Stream:ReconcileInterval", "00:00:03");
        for (var index = 0; index < accounts.Count; index++)
        {
            yield return ($"Grinder:Accounts:{index}:Id", accounts[index].Id);
            yield return ($"Grinder:Accounts:{index}:Symbols", string.Join(',', run.Plan.Symbols));
            yield return ($"Grinder:Accounts:{index}:ApiKey", accounts[index].ApiKey);
            yield return ($"Grinder:Accounts:{index}:ApiSecret", accounts[index].ApiSecret);
        }
    }

    /// <summary>Silos started after this no longer log into the run's capture.</summary>
    public static void Release(ChaosRun run) => Captures.TryRemove(run.Id, out _);

    private sealed class SiloConfigurator : ISiloConfigurator
    {
        public void Configure(ISiloBuilder siloBuilder)
        {
            siloBuilder.UseGrinderPostgres(siloBuilder.Configuration[PostgresKey]!);
            siloBuilder.Services.AddGrinderIngest();
            if (Captures.TryGetValue(siloBuilder.Configuration[RunKey]!, out var capture))
            {
                siloBuilder.Services.AddSingleton<ILoggerProvider>(capture);

                // Every category down to Debug reaches the capture (a rule for this provider beats the general ones), so
                // the secret check sees what an operator who turned logging up would ship.
                siloBuilder.Services.AddLogging(logging => logging.AddFilter<LogCapture>(null, LogLevel.Debug));
            }
        }
    }

    private sealed class ClientConfigurator : IClientBuilderConfigurator
    {
        public void Configure(IConfiguration configuration, IClientBuilder clientBuilder) =>
            clientBuilder.UseAdoNetClustering(options =>
            {
                options.Invariant = PostgresHostingExtensions.Invariant;
                options.ConnectionString = configuration[PostgresKey];
            });
    }
}
