using Grinder.Grains;
using Grinder.Grains.Binance;
using Grinder.Silo.Storage;
using Grinder.Tests.Infrastructure;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using Orleans.Serialization;
using Orleans.Serialization.Serializers;
using Orleans.Storage;

namespace Grinder.Tests.Silo;

/// <summary>Local-mode storage: atomic writes, version ETags, and no silent fallback to older state.</summary>
public sealed class FileGrainStorageTests : IDisposable
{
    private static readonly GrainId Grain = GrainId.Create("fillmetrics", "acct-main");
    private readonly TempDirectory _directory = new();
    private readonly ServiceProvider _services = new ServiceCollection().AddSerializer().BuildServiceProvider();

    public void Dispose()
    {
        _services.Dispose();
        _directory.Dispose();
    }

    [Fact]
    public async Task State_survives_a_new_provider_instance_on_the_same_directory()
    {
        var first = CreateStorage();
        var written = NewState(version: 7, polls: 42);
        await first.WriteStateAsync("metrics", Grain, written);

        var reread = new GrainState<FillMetricsState>();
        await CreateStorage().ReadStateAsync("metrics", Grain, reread);

        Assert.True(reread.RecordExists);
        Assert.Equal(written.ETag, reread.ETag);
        var snapshot = Assert.Single(reread.State!.Accounts).Value;
        Assert.Equal(42, snapshot.Polls);
        Assert.Equal(7, snapshot.Version);
        Assert.Equal(12.5m, snapshot.Fills[new(FillSide.Buy, FillLiquidity.Taker)].Notional);
    }

    [Fact]
    public async Task Missing_state_reads_as_not_existing()
    {
        var state = new GrainState<FillMetricsState>();
        await CreateStorage().ReadStateAsync("metrics", Grain, state);
        Assert.False(state.RecordExists);
        Assert.Null(state.ETag);
        Assert.Empty(state.State!.Accounts);
    }

    [Fact]
    public async Task A_stale_writer_gets_an_etag_conflict_and_the_stored_state_is_kept()
    {
        var storage = CreateStorage();
        var writerA = NewState(version: 1, polls: 1);
        await storage.WriteStateAsync("metrics", Grain, writerA);

        // Writer B read the same version as A, then A wrote again: B is now stale.
        var writerB = new GrainState<FillMetricsState>();
        await storage.ReadStateAsync("metrics", Grain, writerB);
        writerA.State!.Accounts["acct-main"] = writerA.State!.Accounts["acct-main"] with { Version = 2, Polls = 2 };
        await storage.WriteStateAsync("metrics", Grain, writerA);

        writerB.State!.Accounts["acct-main"] = writerB.State!.Accounts["acct-main"] with { Version = 99, Polls = 99 };
        await Assert.ThrowsAsync<InconsistentStateException>(() => storage.WriteStateAsync("metrics", Grain, writerB));

        var stored = new GrainState<FillMetricsState>();
        await storage.ReadStateAsync("metrics", Grain, stored);
        Assert.Equal(2, stored.State!.Accounts["acct-main"].Polls);
    }

    [Fact]
    public async Task A_first_write_conflicts_when_someone_else_created_the_record()
    {
        var storage = CreateStorage();
        await storage.WriteStateAsync("metrics", Grain, NewState(version: 1, polls: 1));
        var blind = NewState(version: 5, polls: 5);
        await Assert.ThrowsAsync<InconsistentStateException>(() => storage.WriteStateAsync("metrics", Grain, blind));
    }

    [Fact]
    public async Task Leftover_and_truncated_temp_files_from_a_crash_do_not_corrupt_the_last_good_state()
    {
        var storage = CreateStorage();
        var good = NewState(version: 3, polls: 30);
        await storage.WriteStateAsync("metrics", Grain, good);
        var path = storage.PathFor("metrics", Grain);

        // A crash mid-write leaves a temp file, possibly truncated; the rename never happened.
        await File.WriteAllTextAsync(path + ".tmp-" + Guid.NewGuid().ToString("N"), "{\"version\": 4, \"state\": {\"Accou");
        await File.WriteAllTextAsync(path + ".tmp-" + Guid.NewGuid().ToString("N"), string.Empty);

        var reread = new GrainState<FillMetricsState>();
        await CreateStorage().ReadStateAsync("metrics", Grain, reread);
        Assert.Equal(30, reread.State!.Accounts["acct-main"].Polls);

        // And the next write still succeeds on top of the good state.
        reread.State!.Accounts["acct-main"] = reread.State!.Accounts["acct-main"] with { Version = 4, Polls = 31 };
        await storage.WriteStateAsync("metrics", Grain, reread);
        Assert.Equal("2", reread.ETag);
    }

    [Fact]
    public async Task A_hand_edited_state_file_makes_the_next_write_conflict_instead_of_overwriting_the_edit()
    {
        var storage = CreateStorage();
        var writer = NewState(version: 1, polls: 10);
        await storage.WriteStateAsync("metrics", Grain, writer);
        var path = storage.PathFor("metrics", Grain);

        // An operator edits the file without touching the version (as the runbook's "cat/edit the cursor" invites).
        var edited = System.Text.RegularExpressions.Regex.Replace(await File.ReadAllTextAsync(path), "\"Polls\":\\s*10", "\"Polls\": 999");
        Assert.Contains("999", edited);
        await File.WriteAllTextAsync(path, edited);

        writer.State!.Accounts["acct-main"] = writer.State.Accounts["acct-main"] with { Version = 2, Polls = 11 };
        await Assert.ThrowsAsync<InconsistentStateException>(() => storage.WriteStateAsync("metrics", Grain, writer));

        // Re-reading shows the edit and yields an ETag that allows the next write.
        var reread = new GrainState<FillMetricsState>();
        await storage.ReadStateAsync("metrics", Grain, reread);
        Assert.Equal(999, reread.State!.Accounts["acct-main"].Polls);
        await storage.WriteStateAsync("metrics", Grain, reread);
        Assert.Equal("2", reread.ETag);
    }

    [Theory]
    [InlineData("")]
    [InlineData("{\"version\": 3, \"state\": {\"Accou")]
    [InlineData("[1, 2, 3]")]
    [InlineData("\"just a string\"")]
    [InlineData("{\"state\": {}}")]
    public async Task An_unreadable_state_file_fails_loudly_instead_of_reading_as_empty(string content)
    {
        var storage = CreateStorage();
        var path = storage.PathFor("metrics", Grain);
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        await File.WriteAllTextAsync(path, content);

        // Reading it as "no state" would restart counting from zero; the caller must see an error instead.
        var error = await Assert.ThrowsAsync<InvalidDataException>(() => storage.ReadStateAsync("metrics", Grain, new GrainState<FillMetricsState>()));
        Assert.Contains(path, error.Message);

        // A write over an unreadable file is refused too: the operator decides (cursor reset), not the storage.
        await Assert.ThrowsAsync<InvalidDataException>(() => storage.WriteStateAsync("metrics", Grain, NewState(1, 1)));
    }

    private FileGrainStorage CreateStorage() => new(
        GrinderStorage.Name,
        _directory.Path,
        new SystemTextJsonGrainStorageSerializer(Options.Create(new SystemTextJsonGrainStorageSerializerOptions())),
        _services.GetRequiredService<IActivatorProvider>(),
        NullLogger<FileGrainStorage>.Instance);

    private static GrainState<FillMetricsState> NewState(long version, long polls)
    {
        var snapshot = new AccountSnapshot(
            "acct-main",
            FillSource.Reconcile,
            version,
            new Dictionary<FillBucket, FillTotals> { [new(FillSide.Buy, FillLiquidity.Taker)] = new(2, 12.5m, 0.01m, 0m) },
            polls,
            new Dictionary<ErrorReason, long>(),
            new Dictionary<CursorResult, long> { [CursorResult.Ok] = 1 },
            new Dictionary<CursorResult, long> { [CursorResult.Ok] = polls },
            1_700_000_000_000,
            true);
        var state = new FillMetricsState();
        state.Accounts["acct-main"] = snapshot;
        return new GrainState<FillMetricsState>(state);
    }
}
