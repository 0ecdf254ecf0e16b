using Grinder.Grains.Ingest;
using Microsoft.Extensions.Logging;

namespace Grinder.Grains.Metrics;

/// <summary>
/// One activation cluster-wide (key 0). Holds the newest snapshot per account. After a move to another silo no counter
/// may go backwards (Prometheus would read a reset and <c>increase()</c> would double count), so on activation it takes
/// the persisted snapshots (written at most every <see cref="FlushInterval"/> and on deactivation) and then asks every
/// configured account for its current one before serving; the newest version per account wins.
/// </summary>
public sealed partial class FillMetricsGrain(
    [PersistentState("metrics", GrinderStorage.Name)] IPersistentState<FillMetricsState> state,
    IAccountDirectory accounts,
    ILogger<FillMetricsGrain> logger) : Grain, IFillMetricsGrain
{
    private static readonly TimeSpan FlushInterval = TimeSpan.FromSeconds(10);
    private static readonly TimeSpan RebuildDeadline = TimeSpan.FromSeconds(10);
    private readonly MetricsAggregator aggregator = new();
    private bool dirty;

    public override async Task OnActivateAsync(CancellationToken cancellationToken)
    {
        foreach (var snapshot in state.State.Accounts.Values)
        {
            aggregator.Apply(snapshot);
        }

        await RebuildFromAccountsAsync(cancellationToken);
        this.RegisterGrainTimer(FlushAsync, new GrainTimerCreationOptions(FlushInterval, FlushInterval) { KeepAlive = true });
    }

    public override async Task OnDeactivateAsync(DeactivationReason reason, CancellationToken cancellationToken)
    {
        await FlushAsync(cancellationToken);
    }

    public Task ReportAsync(AccountSnapshot snapshot)
    {
        dirty |= aggregator.Apply(snapshot);
        return Task.CompletedTask;
    }

    public Task ReportLoadErrorAsync(string accountId, string source)
    {
        aggregator.ApplyLoadError(accountId, source);
        dirty = true;
        return Task.CompletedTask;
    }

    public Task<MetricsAggregate> GetAggregateAsync() => Task.FromResult(aggregator.Aggregate());

    // Accounts save before they report, so an account's own snapshot is never behind what it reported before this
    // activation; it can only be newer than the last persisted copy here. Account calls interleave (they only read).
    private async Task RebuildFromAccountsAsync(CancellationToken cancellationToken)
    {
        // Configured accounts, and any account a persisted snapshot names (it may be configured on another silo only).
        var keys = accounts.Accounts.Select(account => account.GrainKey)
            .Union(aggregator.Accounts.Keys.Select(ConfiguredAccount.GrainKeyFor), StringComparer.Ordinal)
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
            if (snapshot is { Version: > 0 })
            {
                dirty |= aggregator.Apply(snapshot);
            }
        }
    }

    private async Task FlushAsync(CancellationToken cancellationToken)
    {
        if (!dirty)
        {
            return;
        }

        state.State.Accounts = new Dictionary<string, AccountSnapshot>(aggregator.Accounts, StringComparer.Ordinal);
        try
        {
            await state.WriteStateAsync(cancellationToken);
            dirty = false;
        }
        catch (Orleans.Storage.InconsistentStateException)
        {
            // Another activation wrote meanwhile (brief duplicate during failover): take its snapshots where newer,
            // keep ours where newer, and write the merge with its ETag on the next flush.
            await state.ReadStateAsync(cancellationToken);
            foreach (var snapshot in state.State.Accounts.Values)
            {
                aggregator.Apply(snapshot);
            }
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            // Snapshots stay in memory and the next flush retries; accounts hold the authoritative counters.
            LogFlushFailed(logger, ex.GetType().Name, ex.Message);
        }
    }

    [LoggerMessage(EventId = 1102, EventName = "FILL_METRICS_REBUILD_MISS", Level = LogLevel.Warning,
        Message = "Metrics rebuild could not read account {AccountId} ({ErrorType}); its persisted snapshot stands until it reports")]
    private static partial void LogRebuildMiss(ILogger logger, string accountId, string errorType);

    [LoggerMessage(EventId = 1101, EventName = "FILL_METRICS_FLUSH_ERROR", Level = LogLevel.Warning,
        Message = "Could not persist metric snapshots: {ErrorType}: {Reason}")]
    private static partial void LogFlushFailed(ILogger logger, string errorType, string reason);
}
