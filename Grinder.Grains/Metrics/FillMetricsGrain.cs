using Grinder.Grains.Ingest;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Grinder.Grains.Metrics;

/// <summary>
/// One activation cluster-wide (key 0). Holds the newest snapshot per account; persists them (at most every
/// <see cref="FlushInterval"/> and on deactivation) and, on activation, asks every account for its current snapshot
/// before serving, so that after a move to another silo no counter goes backwards (design.md §3).
/// </summary>
public sealed partial class FillMetricsGrain(
    [PersistentState("metrics", GrinderStorage.Name)] IPersistentState<FillMetricsState> state,
    ILogger<FillMetricsGrain> logger) : Grain, IFillMetricsGrain
{
    private static readonly TimeSpan FlushInterval = TimeSpan.FromSeconds(10);

    /// <summary>How long activation waits for one account's snapshot; an account on a silo not yet known dead may not answer.</summary>
    private static readonly TimeSpan RebuildDeadline = TimeSpan.FromSeconds(10);

    private readonly MetricsAggregator aggregator = new();
    private bool dirty;

    public override async Task OnActivateAsync(CancellationToken cancellationToken)
    {
        foreach (var snapshot in state.State.Accounts.Values)
        {
            aggregator.Apply(snapshot);
        }

        // The persisted snapshots can be up to FlushInterval old, and a killed silo flushes nothing on the way out:
        // serving them would take every counter back until each account reports again. Rebuild from the accounts
        // first: an account's snapshot is what it holds (a re-activated account loads its saved state), so it is not
        // lower than its last report (unless that report carried counts whose save failed). GetSnapshotAsync
        // interleaves, so an account that is waiting on this activation with its own report still answers.
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

    private async Task RebuildFromAccountsAsync(CancellationToken cancellationToken)
    {
        var configured = ServiceProvider.GetService<IAccountDirectory>()?.Accounts.Select(account => account.GrainKey) ?? [];
        var known = aggregator.Accounts.Keys.Select(ConfiguredAccount.GrainKeyFor);
        var snapshots = await Task.WhenAll(configured.Union(known, StringComparer.Ordinal).Select(async key =>
        {
            try
            {
                return await GrainFactory.GetGrain<IFillIngestGrain>(key).GetSnapshotAsync().WaitAsync(RebuildDeadline, cancellationToken);
            }
            catch (Exception ex) when (ex is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
            {
                // Its persisted snapshot stays until it reports; the account reports after every poll.
                LogRebuildMissed(logger, ConfiguredAccount.AccountIdFromGrainKey(key), ex.GetType().Name);
                return null;
            }
        }));
        foreach (var snapshot in snapshots)
        {
            if (snapshot is not null)
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
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            // Snapshots stay in memory and the next flush retries; accounts hold the authoritative counters.
            LogFlushFailed(logger, ex.GetType().Name, ex.Message);
        }
    }

    [LoggerMessage(EventId = 1101, EventName = "FILL_METRICS_FLUSH_ERROR", Level = LogLevel.Warning,
        Message = "Could not persist metric snapshots: {ErrorType}: {Reason}")]
    private static partial void LogFlushFailed(ILogger logger, string errorType, string reason);

    [LoggerMessage(EventId = 1102, EventName = "FILL_METRICS_REBUILD_MISSED", Level = LogLevel.Warning,
        Message = "Metric snapshot of account {AccountId} not received at activation ({ErrorType}); serving its persisted snapshot until it reports")]
    private static partial void LogRebuildMissed(ILogger logger, string accountId, string errorType);
}
