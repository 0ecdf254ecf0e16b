using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Grinder.Grains.Ingest;

/// <summary>
/// Per-silo keeper (docs/architecture.md "Never stops polling"): while ingest is on, pings every configured account grain each
/// <see cref="IngestOptions.KeeperInterval"/>. A ping activates a grain that was lost with a dead silo on a survivor,
/// which restarts its poll timer. Every silo runs one, so the cluster keeps polling as long as one silo is up.
/// </summary>
public sealed class AccountKeeper(
    IGrainFactory grains,
    IAccountDirectory accounts,
    IOptions<IngestOptions> options,
    IHostApplicationLifetime lifetime,
    ILogger<AccountKeeper> logger) : BackgroundService
{
    public override Task StartAsync(CancellationToken cancellationToken)
    {
        var ingest = options.Value;
        if (ingest.Enabled)
        {
            IngestLog.IngestEnabled(logger, accounts.Accounts.Count, string.Join(", ", accounts.Accounts.Select(a => $"{a.Id}[{a.Source.Label()}: {string.Join(',', a.Symbols)}]")), ingest.PollInterval);
        }
        else
        {
            IngestLog.IngestDisabled(logger);
        }

        return base.StartAsync(cancellationToken);
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        if (!options.Value.Enabled)
        {
            return;
        }

        // The silo accepts grain calls only once the host has started; pinging earlier only produces errors.
        var started = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        using (lifetime.ApplicationStarted.Register(() => started.TrySetResult()))
        using (stoppingToken.Register(() => started.TrySetCanceled(stoppingToken)))
        {
            try
            {
                await started.Task;
            }
            catch (OperationCanceledException)
            {
                return;
            }
        }

        using var ticker = new PeriodicTimer(options.Value.KeeperInterval);
        do
        {
            await PingAllAsync(stoppingToken);
        }
        while (await WaitAsync(ticker, stoppingToken));
    }

    private static async Task<bool> WaitAsync(PeriodicTimer ticker, CancellationToken stoppingToken)
    {
        try
        {
            return await ticker.WaitForNextTickAsync(stoppingToken);
        }
        catch (OperationCanceledException)
        {
            return false;
        }
    }

    private async Task PingAllAsync(CancellationToken stoppingToken)
    {
        var pings = accounts.Accounts.Select(async account =>
        {
            try
            {
                await grains.GetGrain<IFillIngestGrain>(account.GrainKey).EnsurePollingAsync().WaitAsync(TimeSpan.FromSeconds(30), stoppingToken);
            }
            catch (Exception ex) when (ex is not OperationCanceledException || !stoppingToken.IsCancellationRequested)
            {
                // Silo start-up and shutdown race with pings; the next round tries again.
                IngestLog.KeeperPingFailed(logger, account.Id, ex.GetType().Name);
            }
        });
        await Task.WhenAll(pings);
    }
}
