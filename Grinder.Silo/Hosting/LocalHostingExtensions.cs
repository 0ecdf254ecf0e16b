using Grinder.Grains;
using Grinder.Grains.Ledger;
using Grinder.Grains.Placement;
using Grinder.Silo.Ledger;
using Grinder.Silo.Storage;
using Orleans.Runtime.Hosting;

namespace Grinder.Silo.Hosting;

/// <summary>Local mode: nothing else installed or running.</summary>
public static class LocalHostingExtensions
{
    /// <summary>
    /// Localhost clustering, durable file-backed grain storage and the SQLite fill ledger (<c>ledger.db</c>) under
    /// <paramref name="dataDirectory"/>.
    /// </summary>
    public static ISiloBuilder UseGrinderLocal(this ISiloBuilder silo, string dataDirectory, int siloPort, int gatewayPort)
    {
        silo.UseLocalhostClustering(siloPort, gatewayPort);
        silo.AddGrinderPlacement();
        silo.Services.AddGrainStorage(GrinderStorage.Name, (services, name) =>
            ActivatorUtilities.CreateInstance<FileGrainStorage>(services, name, dataDirectory));
        silo.Services.AddSingleton<IFillLedger>(services =>
            new SqliteFillLedger(dataDirectory, services.GetRequiredService<ILogger<SqliteFillLedger>>()));
        silo.Services.AddSingleton<ILifecycleParticipant<ISiloLifecycle>>(services => new FillLedgerStartupCheck(services));
        return silo;
    }
}
