using Grinder.Grains.Ingest;
using Grinder.Grains.Logging;
using Grinder.Grains.Storage;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Orleans.Storage;

namespace Grinder.Grains.Metrics;

/// <summary>
/// One activation cluster-wide (key 0). Holds the newest saved part and the unsaved pending parts per account
/// (<see cref="MetricsAggregator"/>). After a move to another silo no counter
/// may go backwards (Prometheus would read a reset and <c>increase()</c> would double count), so on activation it takes
/// the persisted snapshots (written every <see cref="MetricsOptions.FlushInterval"/> while reports arrive, and on
/// deactivation) and then asks every configured account for its current one before serving; the newest version per
/// account wins.
/// </summary>
/// <remarks>
/// The persisted copy is large (about 0.5 KiB per account: 5 MiB at 10,000 accounts) and writing it takes hundreds of
/// milliseconds, so it is written off the grain's turn: the timer copies the snapshot map and hands the copy to the storage
/// provider on the thread pool, and scrapes and reports go on being served meanwhile. That is why the state goes through
/// <see cref="IGrainStorage"/> directly: <c>IPersistentState</c> may only be used from the grain's own context.
/// </remarks>
public sealed partial class FillMetricsGrain(
    [FromKeyedServices(GrinderStorage.Name)] IGrainStorage storage,
    IAccountDirectory accounts,
    IOptions<MetricsOptions> options,
    ILogger<FillMetricsGrain> logger) : Grain, IFillMetricsGrain
{
    private const string StateName = "metrics";
    private static readonly TimeSpan RebuildDeadline = TimeSpan.FromSeconds(10);
    private readonly MetricsAggregator _aggregator = new();
    private string? _storedETag;
    private bool _recordExists;
    private bool _dirty;
    private Task<StateWriteOutcome<FillMetricsState>>? _flushing;

    public override async Task OnActivateAsync(CancellationToken cancellationToken)
    {
        // A read error fails the activation, and with it the scrape that asked: serving without the persisted snapshots
        // could show lower counters than before the move.
        var persisted = new GrainState<FillMetricsState>(new FillMetricsState());
        await storage.ReadStateAsync(StateName, this.GetGrainId(), persisted);
        Adopt(persisted);
        await RebuildFromAccountsAsync(cancellationToken);
        var interval = options.Value.FlushInterval;
        this.RegisterGrainTimer(FlushTickAsync, new GrainTimerCreationOptions(interval, interval) { KeepAlive = true });
    }

    public override async Task OnDeactivateAsync(DeactivationReason reason, CancellationToken cancellationToken)
    {
        // The last word before another silo takes over: finish the write in flight, then write what came since.
        await CompleteFlushAsync();
        if (_dirty)
        {
            Complete(await WriteAsync(storage, this.GetGrainId(), PrepareFlush()));
        }
    }

    public Task ReportAsync(AccountSnapshot snapshot)
    {
        _dirty |= _aggregator.Apply(snapshot);
        return Task.CompletedTask;
    }

    public Task<MetricsAggregate> GetAggregateAsync() => Task.FromResult(_aggregator.Aggregate());

    // Accounts save before they report, so an account's own snapshot is never behind what it reported before this
    // activation; it can only be newer than the last persisted copy here. Account calls interleave (they only read).
    private async Task RebuildFromAccountsAsync(CancellationToken cancellationToken)
    {
        // Configured accounts, and any account a persisted snapshot names (it may be configured on another silo only).
        var keys = accounts.Accounts.Select(account => account.GrainKey)
            .Union(_aggregator.Accounts.Keys.Select(ConfiguredAccount.GrainKeyFor), StringComparer.Ordinal)
            .ToList();
        var pulls = keys.Select(async key =>
        {
            try
            {
                return await GrainFactory.GetGrain<IFillIngestGrain>(key).GetSnapshotAsync().WaitAsync(RebuildDeadline, cancellationToken);
            }
            catch (Exception ex) when (ex is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
            {
                LogRebuildMiss(logger, ConfiguredAccount.AccountIdFromGrainKey(key), ex.GetType().Name);
                return null;
            }
        });
        foreach (var snapshot in await Task.WhenAll(pulls))
        {
            // An account with no saved state yet adds nothing unless it counted something (a failed load): no series
            // appears for a source that has done nothing (runbook Gate 0 lists exactly the placeholders).
            if (snapshot is { Version: > 0 } or { Pending.Counters.IsZero: false })
            {
                _dirty |= _aggregator.Apply(snapshot);
            }
        }
    }

    /// <summary>The timer's turn stays short: it only looks at the previous write and, if anything changed, starts the next one.</summary>
    private async Task FlushTickAsync(CancellationToken cancellationToken)
    {
        if (_flushing is { IsCompleted: false })
        {
            // The previous write is still running (slow storage): what changed meanwhile goes with the next one.
            return;
        }

        await CompleteFlushAsync();
        if (_dirty)
        {
            var attempt = PrepareFlush();
            var grainId = this.GetGrainId();

            // Task.Run leaves the grain's scheduler: serialization and I/O run on the thread pool while this activation
            // goes on serving. Nothing below touches the grain's fields; the outcome is applied by a later turn.
            _flushing = Task.Run(() => WriteAsync(storage, grainId, attempt), CancellationToken.None);
        }
    }

    private async Task CompleteFlushAsync()
    {
        if (_flushing is { } pending)
        {
            _flushing = null;
            Complete(await pending);
        }
    }

    /// <summary>A copy of the snapshot map (the snapshots themselves are immutable) with the ETag of the last write.</summary>
    private GrainState<FillMetricsState> PrepareFlush()
    {
        _dirty = false;
        var copy = new FillMetricsState
        {
            Accounts = new Dictionary<string, AccountSnapshot>(_aggregator.Accounts, StringComparer.Ordinal),
            Pending = _aggregator.Pending.ToDictionary(pair => pair.Key, pair => new List<PendingCounters>(pair.Value), StringComparer.Ordinal),
        };
        return new GrainState<FillMetricsState>(copy) { ETag = _storedETag, RecordExists = _recordExists };
    }

    /// <summary>Writes <paramref name="attempt"/>; never throws. On a conflict it reads what the other writer stored.</summary>
    private static Task<StateWriteOutcome<FillMetricsState>> WriteAsync(IGrainStorage storage, GrainId grainId, GrainState<FillMetricsState> attempt) =>
        StateWrite.WriteAsync(storage, StateName, grainId, attempt, Timeout.InfiniteTimeSpan, CancellationToken.None);

    private void Complete(StateWriteOutcome<FillMetricsState> result)
    {
        if (result.Result == StateWriteResult.Conflict && result.Stored is { } current)
        {
            // Another activation wrote meanwhile (brief duplicate during failover): take its snapshots where newer,
            // keep ours where newer, and write the merge with its ETag on the next flush.
            Adopt(current);
            _dirty = true;
        }
        else if (result.Error is { } error)
        {
            // Snapshots stay in memory and the next flush retries; accounts hold the authoritative counters.
            _dirty = true;
            LogFlushFailed(logger, error.GetType().Name, error.Message);
        }
        else
        {
            _storedETag = result.Attempt.ETag;
            _recordExists = result.Attempt.RecordExists;
        }
    }

    private void Adopt(GrainState<FillMetricsState> persisted)
    {
        foreach (var snapshot in persisted.State?.Accounts.Values ?? Enumerable.Empty<AccountSnapshot>())
        {
            _aggregator.Apply(snapshot);
        }

        foreach (var (accountId, parts) in persisted.State?.Pending ?? [])
        {
            foreach (var part in parts)
            {
                _aggregator.ApplyPending(accountId, part);
            }
        }

        _storedETag = persisted.ETag;
        _recordExists = persisted.RecordExists;
    }

    [LoggerMessage(EventId = LogEvents.Metrics.FillMetricsRebuildMiss, EventName = "FILL_METRICS_REBUILD_MISS", Level = LogLevel.Warning,
        Message = "Metrics rebuild could not read account {AccountId} ({ErrorType}); its persisted snapshot stands until it reports")]
    private static partial void LogRebuildMiss(ILogger logger, string accountId, string errorType);

    [LoggerMessage(EventId = LogEvents.Metrics.FillMetricsFlushError, EventName = "FILL_METRICS_FLUSH_ERROR", Level = LogLevel.Warning,
        Message = "Could not persist metric snapshots: {ErrorType}: {Reason}")]
    private static partial void LogFlushFailed(ILogger logger, string errorType, string reason);
}
