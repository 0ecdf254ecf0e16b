using Grinder.Grains.Ledger;

namespace Grinder.Silo.Ledger;

/// <summary>
/// Opens the fill ledger while the silo starts and asks it to answer once, so a ledger that cannot be used (an
/// unreadable <c>ledger.db</c>, a file of a newer schema, missing tables) stops the start with its error instead of
/// failing the first poll. Runs after the PostgreSQL schema migration and before any grain is activated.
/// </summary>
public sealed class FillLedgerStartupCheck(IServiceProvider services) : ILifecycleParticipant<ISiloLifecycle>
{
    /// <summary>After <see cref="Storage.PostgresSchemaMigrationParticipant.Stage"/>, before grain storage and grains.</summary>
    public const int Stage = ServiceLifecycleStage.RuntimeInitialize;

    public void Participate(ISiloLifecycle lifecycle) =>
        lifecycle.Subscribe(nameof(FillLedgerStartupCheck), Stage, cancellationToken =>
            services.GetRequiredService<IFillLedger>().PingAsync(cancellationToken));
}
