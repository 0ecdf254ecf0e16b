namespace Grinder.Silo.Storage;

/// <summary>
/// Opens once the schema migration of this silo has succeeded. Anything outside Orleans' own providers that uses the
/// database (the fill ledger) waits on it, so it can never run against tables that do not exist yet.
/// </summary>
public sealed class PostgresSchemaGate
{
    private readonly TaskCompletionSource ready = new(TaskCreationOptions.RunContinuationsAsynchronously);

    /// <summary>A gate that is open from the start: for a database migrated beforehand (tests, tools).</summary>
    public static PostgresSchemaGate Open()
    {
        var gate = new PostgresSchemaGate();
        gate.MarkMigrated();
        return gate;
    }

    public bool IsOpen => ready.Task.IsCompletedSuccessfully;

    public void MarkMigrated() => ready.TrySetResult();

    /// <summary>Completes when the schema is migrated; fast path when it already is.</summary>
    public Task WaitAsync(CancellationToken cancellationToken) =>
        ready.Task.IsCompletedSuccessfully ? Task.CompletedTask : ready.Task.WaitAsync(cancellationToken);
}
