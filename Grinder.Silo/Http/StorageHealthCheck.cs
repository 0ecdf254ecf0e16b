using Grinder.Silo.Configuration;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Options;
using Npgsql;

namespace Grinder.Silo.Http;

/// <summary>Storage reachability for <c>/healthz</c>: the PostgreSQL server answers, or the local data directory is writable.</summary>
public sealed class StorageHealthCheck(IOptions<StorageOptions> options) : IHealthCheck
{
    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(3);

    public async Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        var storage = options.Value;
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(Deadline);
        try
        {
            if (storage.UsePostgres)
            {
                await using var connection = new NpgsqlConnection(storage.Postgres);
                await connection.OpenAsync(timeout.Token);
                await using var command = new NpgsqlCommand("SELECT 1", connection);
                await command.ExecuteScalarAsync(timeout.Token);
                return HealthCheckResult.Healthy("postgresql reachable", new Dictionary<string, object>
                {
                    ["mode"] = "postgres",
                    ["server"] = $"{connection.Host}:{connection.Port}/{connection.Database}",
                });
            }

            var directory = Path.GetFullPath(storage.DataDirectory);
            Directory.CreateDirectory(directory);
            var probe = Path.Combine(directory, $".healthz-{Guid.NewGuid():N}");
            await File.WriteAllTextAsync(probe, "ok", timeout.Token);
            File.Delete(probe);
            return HealthCheckResult.Healthy("data directory writable", new Dictionary<string, object>
            {
                ["mode"] = "local",
                ["data_dir"] = directory,
            });
        }
        catch (Exception ex) when (ex is NpgsqlException or IOException or UnauthorizedAccessException or OperationCanceledException or TimeoutException)
        {
            // The message names the failure, never the connection string (it may hold a password).
            return HealthCheckResult.Unhealthy(storage.UsePostgres
                ? $"postgresql unreachable: {ex.GetType().Name}: {ex.Message}"
                : $"data directory not writable: {ex.Message}");
        }
    }
}
