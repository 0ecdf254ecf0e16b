using System.Collections.Concurrent;
using System.Globalization;
using Grinder.FakeBinance;
using Grinder.Grains;
using Grinder.Grains.Ingest;
using Grinder.Grains.Ledger;
using Grinder.Silo.Hosting;
using Grinder.Tests.Infrastructure;
using Microsoft.Extensions.Logging;
using Orleans.TestingHost;

namespace Grinder.Tests.Ingest;

/// <summary>
/// Real parts end to end: a fake exchange over loopback HTTP, a fresh PostgreSQL database, and a classic two-silo
/// TestCluster on PostgreSQL membership and storage, composed like the production silo. Every account polls every
/// second; each test takes its own account so tests do not see each other's fills.
/// </summary>
public class IngestClusterFixture : IAsyncLifetime
{
    public const int AccountCount = 21;
    public static readonly string[] Symbols = ["BTCUSDT", "ETHUSDT"];
    private static readonly ConcurrentDictionary<string, LogCapture> Captures = new();
    private readonly string _id = Guid.NewGuid().ToString("N");
    private int _nextAccount;

    public FakeExchange Exchange { get; private set; } = null!;

    public PostgresDatabase Database { get; private set; } = null!;

    public TestCluster Cluster { get; private set; } = null!;

    public LogCapture Logs { get; } = new();

    public IGrainFactory Grains => Cluster.Client;

    /// <summary>Settings the fixture's silos get on top of the REST-only defaults.</summary>
    protected virtual IReadOnlyDictionary<string, string> Settings => new Dictionary<string, string>();

    /// <summary>Account name prefix, so two fixtures' accounts never meet in one log.</summary>
    protected virtual string Prefix => "it-";

    public static string KeyOf(string account) => "key-" + account;

    public static string SecretOf(string account) => "secret-" + account + "-s3cr3t";

    public async Task InitializeAsync()
    {
        Captures[_id] = Logs;
        // Eight accounts on two clusters polling every second would exceed Binance's real 2,400/min weight; the
        // governor's behaviour at the limit has its own tests, here the limit only must not slow ticks down.
        Exchange = await FakeExchange.StartAsync(ExchangeOptions());
        Database = await (await PostgresServer.GetAsync()).CreateDatabaseAsync();
        for (var index = 0; index < AccountCount; index++)
        {
            Exchange.AddAccount(KeyOf(AccountName(index)), SecretOf(AccountName(index)));
        }

        Cluster = await StartClusterAsync(Database.ConnectionString, clusterId: "ingest-" + _id[..8], silos: 2);
    }

    protected virtual FakeExchangeOptions ExchangeOptions() => new() { WeightLimitPerMinute = 1_000_000 };

    /// <summary>Hands out an account no other test uses.</summary>
    public string TakeAccount()
    {
        var index = Interlocked.Increment(ref _nextAccount) - 1;
        if (index >= AccountCount)
        {
            throw new InvalidOperationException($"IngestClusterFixture has only {AccountCount} accounts; raise AccountCount");
        }

        return AccountName(index);
    }

    /// <summary>
    /// New fills as an exchange produces them: executed now. (Rows backdated before an account's bootstrap window
    /// would never be served by Binance's time-window query either.)
    /// </summary>
    public IReadOnlyList<FakeTrade> NewTrades(string account, string symbol, int count, int seed, double selfTradePairFraction = 0) =>
        Exchange.GenerateTrades(KeyOf(account), symbol, count, seed, selfTradePairFraction, DateTimeOffset.UtcNow.ToUnixTimeMilliseconds());

    /// <summary>The ledger as the silos see it (each silo's own instance on the same database).</summary>
    public IFillLedger Ledger => LedgerOf(Cluster);

    public static IFillLedger LedgerOf(TestCluster cluster) =>
        ((InProcessSiloHandle)cluster.Silos.First()).SiloHost.Services.GetRequiredService<IFillLedger>();

    public IFillIngestGrain Account(string account) => Grains.GetGrain<IFillIngestGrain>(ConfiguredAccount.GrainKeyFor(account));

    /// <summary>Every account the fixture's silos poll, taken by a test or not.</summary>
    public IReadOnlyList<string> AllAccounts => [.. Enumerable.Range(0, AccountCount).Select(AccountName)];

    /// <summary>The ingest settings the fixture's silos run with.</summary>
    public IngestOptions IngestOptions =>
        ((InProcessSiloHandle)Cluster.Silos.First()).SiloHost.Services.GetRequiredService<Microsoft.Extensions.Options.IOptions<IngestOptions>>().Value;

    /// <summary>A valid row with an explicit id (0: the symbol's next) and time: BUY as taker paying a fee, SELL as maker earning a rebate.</summary>
    public static FakeTrade Row(string symbol, long id, string side, long timeMs) =>
        new(symbol, id, 0, side, 100m, 0.01m, 1m, 0m, side == "BUY" ? 0.0004m : -0.0001m, "USDT", timeMs, side == "BUY", side == "SELL", "BOTH");

    /// <summary>Another cluster (own cluster id, same service id and database): a second activation of every account.</summary>
    public Task<TestCluster> StartClusterAsync(string connectionString, string clusterId, int silos) =>
        StartClusterAsync(connectionString, clusterId, silos, Exchange.BaseUrl, [.. Enumerable.Range(0, AccountCount).Select(AccountName)], _id, Settings);

    public async Task DisposeAsync()
    {
        await Cluster.StopAllSilosAsync();
        await Cluster.DisposeAsync();
        await Database.DisposeAsync();
        await Exchange.DisposeAsync();
        Captures.TryRemove(_id, out _);
    }

    private string AccountName(int index) => Prefix + index.ToString("00", CultureInfo.InvariantCulture);

    /// <summary>
    /// A classic TestCluster on PostgreSQL membership and storage, composed like the production silo, polling
    /// <paramref name="accounts"/> (keys from <see cref="KeyOf"/> and <see cref="SecretOf"/>) every second.
    /// Logs go to the capture registered under <paramref name="fixtureId"/>, if any.
    /// </summary>
    /// <param name="settings">Further silo settings (configuration keys), applied last.</param>
    public static async Task<TestCluster> StartClusterAsync(
        string connectionString, string clusterId, int silos, Uri exchange, IReadOnlyList<string> accounts, string fixtureId = "", IReadOnlyDictionary<string, string>? settings = null)
    {
        var builder = new TestClusterBuilder((short)silos);
        builder.Options.UseTestClusterMembership = false;
        builder.Options.ClusterId = clusterId;
        builder.Options.ServiceId = "grinder-ingest-tests";
        builder.Properties["GrinderTests:Postgres"] = connectionString;
        builder.Properties["GrinderTests:Fixture"] = fixtureId;
        builder.Properties["Grinder:Ingest:Enabled"] = "true";
        builder.Properties["Grinder:Ingest:PollInterval"] = "00:00:01";
        builder.Properties["Grinder:Ingest:KeeperInterval"] = "00:00:02";
        // The trailing re-scan at test speed: every 2 s over the last minute (defaults 1 min over 10 min).
        builder.Properties["Grinder:Ingest:RescanInterval"] = "00:00:02";
        builder.Properties["Grinder:Ingest:RescanWindow"] = "00:01:00";
        builder.Properties["Grinder:Binance:BaseUrl"] = exchange.ToString();
        builder.Properties["Grinder:Binance:DefaultRetryAfter"] = "00:00:02";
        builder.Properties["Grinder:Binance:WeightLimitPerMinute"] = "1000000";
        for (var index = 0; index < accounts.Count; index++)
        {
            var name = accounts[index];
            builder.Properties[$"Grinder:Accounts:{index}:Id"] = name;
            builder.Properties[$"Grinder:Accounts:{index}:Symbols"] = string.Join(',', Symbols);
            builder.Properties[$"Grinder:Accounts:{index}:ApiKey"] = KeyOf(name);
            builder.Properties[$"Grinder:Accounts:{index}:ApiSecret"] = SecretOf(name);
        }

        // REST polling only: these tests are about the REST path and its faults (the stream tests have their own fixture).
        builder.Properties["Grinder:Stream:Enabled"] = "false";
        foreach (var (name, value) in settings ?? new Dictionary<string, string>())
        {
            builder.Properties[name] = value;
        }

        builder.AddSiloBuilderConfigurator<SiloConfigurator>();
        builder.AddClientBuilderConfigurator<ClientConfigurator>();
        var cluster = builder.Build();
        await cluster.DeployAsync();
        return cluster;
    }

    private sealed class SiloConfigurator : ISiloConfigurator
    {
        public void Configure(ISiloBuilder siloBuilder)
        {
            siloBuilder.UseGrinderPostgres(siloBuilder.Configuration["GrinderTests:Postgres"]!);
            siloBuilder.Services.AddGrinderIngest();
            if (siloBuilder.Configuration["GrinderTests:Fixture"] is { Length: > 0 } fixture && Captures.TryGetValue(fixture, out var capture))
            {
                siloBuilder.Services.AddSingleton<ILoggerProvider>(capture);
            }
        }
    }

    private sealed class ClientConfigurator : IClientBuilderConfigurator
    {
        public void Configure(IConfiguration configuration, IClientBuilder clientBuilder) =>
            clientBuilder.UseAdoNetClustering(options =>
            {
                options.Invariant = PostgresHostingExtensions.Invariant;
                options.ConnectionString = configuration["GrinderTests:Postgres"];
            });
    }
}

/// <summary>Ingest tests sharing one cluster (a two-silo start on PostgreSQL costs seconds).</summary>
[CollectionDefinition(Name)]
public sealed class IngestClusterCollection : ICollectionFixture<IngestClusterFixture>
{
    public const string Name = "Ingest cluster";
}
