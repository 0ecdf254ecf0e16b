using Grinder.Grains;
using Grinder.Silo.Storage;
using Orleans.Runtime.Hosting;

namespace Grinder.Silo.Hosting;

/// <summary>Local mode (design.md §7): nothing else installed or running.</summary>
public static class LocalHostingExtensions
{
    /// <summary>Localhost clustering and durable file-backed grain storage under <paramref name="dataDirectory"/>.</summary>
    public static ISiloBuilder UseGrinderLocal(this ISiloBuilder silo, string dataDirectory, int siloPort, int gatewayPort)
    {
        silo.UseLocalhostClustering(siloPort, gatewayPort);
        silo.AddGrinderPlacement();
        silo.Services.AddGrainStorage(GrinderStorage.Name, (services, name) =>
            ActivatorUtilities.CreateInstance<FileGrainStorage>(services, name, dataDirectory));
        return silo;
    }
}
