using Grinder.Grains;

namespace Grinder.Tests.Infrastructure;

/// <summary>State of <see cref="PostgresProbeGrain"/>: shaped like a cursor record (ids, decimals, per-symbol map).</summary>
[GenerateSerializer]
public sealed record PostgresProbeState
{
    [Id(0)] public string Account { get; init; } = "";

    [Id(1)] public long LastTradeId { get; init; }

    [Id(2)] public decimal Notional { get; init; }

    [Id(3)] public Dictionary<string, long> Cursors { get; init; } = [];
}

/// <summary>A grain persisting one <see cref="PostgresProbeState"/> to the <see cref="GrinderStorage.Name"/> provider.</summary>
public interface IPostgresProbeGrain : IGrainWithStringKey
{
    /// <summary>Replaces the state and writes it to storage.</summary>
    Task SaveAsync(PostgresProbeState state);

    /// <summary>Returns the state as loaded or last saved by this activation.</summary>
    Task<PostgresProbeState> GetAsync();

    /// <summary>Returns the address of the silo hosting this activation.</summary>
    Task<string> GetSiloAsync();
}

/// <inheritdoc cref="IPostgresProbeGrain"/>
public sealed class PostgresProbeGrain(
    [PersistentState("state", GrinderStorage.Name)] IPersistentState<PostgresProbeState> state,
    ILocalSiloDetails silo) : Grain, IPostgresProbeGrain
{
    public async Task SaveAsync(PostgresProbeState value)
    {
        state.State = value;
        await state.WriteStateAsync();
    }

    public Task<PostgresProbeState> GetAsync() => Task.FromResult(state.State);

    public Task<string> GetSiloAsync() => Task.FromResult(silo.SiloAddress.ToString());
}
