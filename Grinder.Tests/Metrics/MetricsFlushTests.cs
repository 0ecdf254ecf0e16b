using System.Collections.Concurrent;
using Grinder.Grains;
using Grinder.Grains.Binance;
using Grinder.Grains.Ingest;
using Grinder.Grains.Placement;
using Grinder.Silo.Hosting;
using Grinder.Silo.Storage;
using Grinder.Tests.Infrastructure;
using Orleans.Runtime.Hosting;
using Orleans.Storage;
using Orleans.TestingHost;

namespace Grinder.Tests.Metrics;

/// <summary>
/// <see cref="IFillMetricsGrain"/> persists its snapshots off its own turn: scrapes and reports are answered while a
/// write is in progress, a failed write is retried, and a write that meets another writer's state merges it.
/// One silo with the real local file storage, wrapped in a device that can hold or fail the metrics state's writes.
/// </summary>
public sealed class MetricsFlushTests : IAsyncLifetime
{
    private const string StateName = "metrics";
    private static readonly TimeSpan Answer = TimeSpan.FromSeconds(20);
    private static readonly ConcurrentDictionary<string, (string Directory, HeldWriteStorage? Device)> Silos = new();
    private readonly string _id = Guid.NewGuid().ToString("N");
    private readonly TempDirectory _data = new();
    private TestCluster _cluster = null!;

    private HeldWriteStorage Device => Silos[_id].Device!;

    private IFillMetricsGrain Metrics => _cluster.Client.GetGrain<IFillMetricsGrain>(0);

    public async Task InitializeAsync()
    {
        Silos[_id] = (_data.Path, null);
        var builder = new TestClusterBuilder(1);
        builder.Properties["GrinderTests:Silo"] = _id;
        builder.Properties["Grinder:Metrics:FlushInterval"] = "00:00:00.200";
        builder.AddSiloBuilderConfigurator<SiloConfigurator>();
        _cluster = builder.Build();
        await _cluster.DeployAsync();

        // The storage provider is created when first used: activating the grain makes the device exist.
        await Metrics.GetAggregateAsync();
    }

    public async Task DisposeAsync()
    {
        Silos[_id].Device?.Release();
        await _cluster.StopAllSilosAsync();
        await _cluster.DisposeAsync();
        Silos.TryRemove(_id, out _);
        _data.Dispose();
    }

    [Fact]
    public async Task Scrapes_and_reports_are_answered_while_the_snapshots_are_being_written()
    {
        await Metrics.ReportAsync(Snapshot("acct-a", version: 1, fills: 10));
        var writing = Device.HoldNextWrite();
        await Metrics.ReportAsync(Snapshot("acct-a", version: 2, fills: 11));
        await writing.WaitAsync(Answer);

        // The write is held until released below, so these answers cannot have waited for it.
        await Metrics.ReportAsync(Snapshot("acct-a", version: 3, fills: 12)).WaitAsync(Answer);
        var aggregate = await Metrics.GetAggregateAsync().WaitAsync(Answer);
        Assert.Equal(12, aggregate.Fills[new(FillSource.Reconcile, new(FillSide.Buy, FillLiquidity.Taker))].Count);

        // Version 3 arrived after the held write had taken its copy: only a later write can store it.
        Device.Release();
        var stored = await Eventually.ReturnsAsync(StoredAsync, state => state.Accounts.GetValueOrDefault("acct-a")?.Version == 3, Answer, "version 3 to be stored");
        Assert.Equal(12, stored.Accounts["acct-a"].Fills[new(FillSide.Buy, FillLiquidity.Taker)].Count);
    }

    [Fact]
    public async Task A_failed_write_is_retried_without_a_new_report()
    {
        var failed = Device.FailNextWrite(new IOException("disk full (injected)"));
        await Metrics.ReportAsync(Snapshot("acct-b", version: 1, fills: 5));
        await failed.WaitAsync(Answer);

        // Nothing is reported after the failure: the snapshot reaches storage only if the grain retries on its own.
        var stored = await Eventually.ReturnsAsync(StoredAsync, state => state.Accounts.GetValueOrDefault("acct-b")?.Version == 1, Answer, "acct-b to be stored after the failed write");
        Assert.Equal(5, stored.Accounts["acct-b"].Fills[new(FillSide.Buy, FillLiquidity.Taker)].Count);
        Assert.Equal(5, (await Metrics.GetAggregateAsync()).Fills[new(FillSource.Reconcile, new(FillSide.Buy, FillLiquidity.Taker))].Count);
    }

    [Fact]
    public async Task A_write_that_meets_another_writers_state_merges_it_and_keeps_the_newer_snapshots()
    {
        await Metrics.ReportAsync(Snapshot("acct-c", version: 4, fills: 40));
        await Eventually.ReturnsAsync(StoredAsync, state => state.Accounts.ContainsKey("acct-c"), Answer, "acct-c to be stored");

        // A duplicate activation (failover) writes behind this one's back: an older acct-c and an account it alone saw.
        var grainId = Metrics.GetGrainId();
        var other = new GrainState<FillMetricsState>(new FillMetricsState());
        var writing = Device.HoldNextWrite();
        await Metrics.ReportAsync(Snapshot("acct-c", version: 5, fills: 50));
        await writing.WaitAsync(Answer);
        await Device.Inner.ReadStateAsync(StateName, grainId, other);
        other.State!.Accounts["acct-c"] = Snapshot("acct-c", version: 3, fills: 30);
        other.State.Accounts["acct-d"] = Snapshot("acct-d", version: 7, fills: 70);
        await Device.Inner.WriteStateAsync(StateName, grainId, other);
        Device.Release();

        // The held write conflicts; the grain merges the other state and writes the merge with its version.
        var stored = await Eventually.ReturnsAsync(
            StoredAsync,
            state => state.Accounts.GetValueOrDefault("acct-c")?.Version == 5 && state.Accounts.ContainsKey("acct-d"),
            Answer,
            "the merged state to be stored");
        Assert.Equal(50, stored.Accounts["acct-c"].Fills[new(FillSide.Buy, FillLiquidity.Taker)].Count);
        Assert.Equal(70, stored.Accounts["acct-d"].Fills[new(FillSide.Buy, FillLiquidity.Taker)].Count);
        Assert.Equal(120, (await Metrics.GetAggregateAsync()).Fills[new(FillSource.Reconcile, new(FillSide.Buy, FillLiquidity.Taker))].Count);
    }

    private async Task<FillMetricsState> StoredAsync()
    {
        var state = new GrainState<FillMetricsState>(new FillMetricsState());
        await Device.Inner.ReadStateAsync(StateName, Metrics.GetGrainId(), state);
        return state.State ?? new FillMetricsState();
    }

    private static AccountSnapshot Snapshot(string account, long version, long fills) => new(
        account, FillSource.Reconcile, version,
        new Dictionary<FillBucket, FillTotals> { [new(FillSide.Buy, FillLiquidity.Taker)] = new(fills, fills * 100m, fills * 0.05m, 0m) },
        version, new Dictionary<ErrorReason, long>(), new Dictionary<CursorResult, long>(), new Dictionary<CursorResult, long> { [CursorResult.Ok] = version },
        DateTimeOffset.UtcNow.ToUnixTimeMilliseconds(), true);

    private sealed class SiloConfigurator : ISiloConfigurator
    {
        public void Configure(ISiloBuilder siloBuilder)
        {
            var silo = siloBuilder.Configuration["GrinderTests:Silo"]!;
            siloBuilder.Services.AddGrinderIngest();
            siloBuilder.UseSystemTextJsonGrainStorageSerializer();
            siloBuilder.AddGrinderPlacement();
            siloBuilder.Services.AddGrainStorage(GrinderStorage.Name, (services, name) =>
            {
                var file = ActivatorUtilities.CreateInstance<FileGrainStorage>(services, name, Silos[silo].Directory);
                var device = new HeldWriteStorage(file, StateName);
                Silos[silo] = (Silos[silo].Directory, device);
                return device;
            });
        }
    }
}
