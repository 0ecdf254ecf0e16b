namespace Grinder.Silo.Storage;

/// <summary>
/// Opens once the schema migration of this silo has succeeded. Anything outside Orleans' own providers that uses the
/// database (the fill ledger) waits on it, so it can never run against tables that do not exist yet.
/// </summary>
public sealed class PostgresSchemaGate
{
    private readonly TaskCompletionSource _ready = new(TaskCreationOptions.RunContinuationsAsynchronously);

    /// <summary>A gate that is open from the start: for a database migrated beforehand (tests, tools).</summary>
    public static PostgresSchemaGate Open()
    {
        var gate = new PostgresSchemaGate();
        gate.MarkMigrated();
        return gate;
    }

    public bool IsOpen => _ready.Task.IsCompletedSuccessfully;

    public void MarkMigrated() => _ready.TrySetResult();

    /// <summary>Completes when the schema is migrated; fast path when it already is.</summary>
    public Task WaitAsync(CancellationToken cancellationToken) =>
        _ready.Task.IsCompletedSuccessfully ? Task.CompletedTask : _ready.Task.WaitAsync(cancellationToken);
}
