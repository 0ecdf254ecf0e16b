using Microsoft.Extensions.Logging;

namespace Grinder.Grains.Metrics;

/// <summary>
/// One activation cluster-wide (key 0). Holds the newest snapshot per account; persists them (at most every
/// <see cref="FlushInterval"/> and on deactivation) so that after a move to another silo no counter goes backwards.
/// </summary>
public sealed partial class FillMetricsGrain(
    [PersistentState("metrics", GrinderStorage.Name)] IPersistentState<FillMetricsState> state,
    ILogger<FillMetricsGrain> logger) : Grain, IFillMetricsGrain
{
    private static readonly TimeSpan FlushInterval = TimeSpan.FromSeconds(10);
    private readonly MetricsAggregator aggregator = new();
    private bool dirty;

    public override Task OnActivateAsync(CancellationToken cancellationToken)
    {
        foreach (var snapshot in state.State.Accounts.Values)
        {
            aggregator.Apply(snapshot);
        }

        this.RegisterGrainTimer(FlushAsync, new GrainTimerCreationOptions(FlushInterval, FlushInterval) { KeepAlive = true });
        return Task.CompletedTask;
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
}
