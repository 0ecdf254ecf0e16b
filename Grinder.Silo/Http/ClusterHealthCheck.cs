using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace Grinder.Silo.Http;

/// <summary>Cluster membership for <c>/healthz</c>: the active silos, and whether this silo is one of them.</summary>
public sealed class ClusterHealthCheck(IGrainFactory grains, ILocalSiloDetails localSilo) : IHealthCheck
{
    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(5);

    public async Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        try
        {
            var hosts = await grains.GetGrain<IManagementGrain>(0)
                .GetDetailedHosts(onlyActive: true)
                .WaitAsync(Deadline, cancellationToken);
            var silos = hosts
                .Select(host => new Dictionary<string, object>
                {
                    ["address"] = host.SiloAddress.ToParsableString(),
                    ["name"] = host.SiloName ?? string.Empty,
                    ["status"] = host.Status.ToString(),
                })
                .ToArray();
            var data = new Dictionary<string, object>
            {
                ["active_silos"] = silos.Length,
                ["silos"] = silos,
                ["this_silo"] = localSilo.SiloAddress.ToParsableString(),
            };
            var self = hosts.Any(host => host.SiloAddress.Equals(localSilo.SiloAddress));
            return self
                ? HealthCheckResult.Healthy($"{silos.Length} active silo(s)", data)
                : HealthCheckResult.Unhealthy("this silo is not an active cluster member", data: data);
        }
        catch (Exception ex) when (ex is TimeoutException or OrleansException or OperationCanceledException)
        {
            return HealthCheckResult.Unhealthy($"cluster membership unavailable: {ex.GetType().Name}: {ex.Message}");
        }
    }
}
