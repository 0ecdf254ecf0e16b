using Grinder.Grains.Logging;
using Grinder.Silo.Configuration;
using Microsoft.Extensions.Options;

namespace Grinder.Silo.Hosting;

/// <summary>Honours <c>--duration</c> (stop gracefully after the given time) and <c>--metrics-out</c> (write the metrics text on stop).</summary>
public sealed partial class RunLifetimeService(
    IOptions<RunOptions> options,
    IHostApplicationLifetime lifetime,
    IMetricsTextSource metrics,
    ILogger<RunLifetimeService> logger) : BackgroundService
{
    public override Task StartAsync(CancellationToken cancellationToken)
    {
        if (options.Value.MetricsOut is { Length: > 0 } path)
        {
            // ApplicationStopping runs before the silo shuts down, so grain calls still work while we render.
            lifetime.ApplicationStopping.Register(() => WriteMetrics(path));
        }

        return base.StartAsync(cancellationToken);
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        if (options.Value.Duration is not { } duration)
        {
            return;
        }

        try
        {
            await Task.Delay(duration, stoppingToken);
            LogDurationElapsed(logger, duration.TotalSeconds);
            lifetime.StopApplication();
        }
        catch (OperationCanceledException)
        {
            // Stopped earlier by a signal.
        }
    }

    private void WriteMetrics(string path)
    {
        try
        {
            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(10));
            var text = metrics.RenderAsync(timeout.Token).GetAwaiter().GetResult();
            var full = Path.GetFullPath(path);
            Directory.CreateDirectory(Path.GetDirectoryName(full)!);
            var temp = full + ".tmp";
            File.WriteAllText(temp, text);
            File.Move(temp, full, overwrite: true);
            LogMetricsWritten(logger, full);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or OperationCanceledException or OrleansException or TimeoutException)
        {
            LogMetricsWriteFailed(logger, path, ex.Message);
        }
    }

    [LoggerMessage(EventId = LogEvents.Hosting.RunDurationElapsed, EventName = "RUN_DURATION_ELAPSED", Level = LogLevel.Information, Message = "--duration {Seconds}s elapsed, stopping")]
    private static partial void LogDurationElapsed(ILogger logger, double seconds);

    [LoggerMessage(EventId = LogEvents.Hosting.MetricsOutWritten, EventName = "METRICS_OUT_WRITTEN", Level = LogLevel.Information, Message = "Metrics written to {Path}")]
    private static partial void LogMetricsWritten(ILogger logger, string path);

    [LoggerMessage(EventId = LogEvents.Hosting.MetricsOutFailed, EventName = "METRICS_OUT_FAILED", Level = LogLevel.Error, Message = "Could not write metrics to {Path}: {Reason}")]
    private static partial void LogMetricsWriteFailed(ILogger logger, string path, string reason);
}
