using Orleans.Storage;

namespace Grinder.Grains.Storage;

/// <summary>How an ETag-checked write of a grain state ended.</summary>
public enum StateWriteResult
{
    /// <summary>Stored; the attempt carries the new ETag.</summary>
    Written,

    /// <summary>Someone else wrote first (the ETag did not match); <see cref="StateWriteOutcome{T}.Stored"/> is what is stored now.</summary>
    Conflict,

    /// <summary>The write, or the re-read after a conflict, failed; <see cref="StateWriteOutcome{T}.Error"/> says why.</summary>
    Failed,
}

/// <summary>The outcome of <see cref="StateWrite.WriteAsync"/>.</summary>
/// <param name="Attempt">The state that was written (with its new ETag when <see cref="StateWriteResult.Written"/>).</param>
/// <param name="Stored">After a conflict: the state as stored now, with its ETag.</param>
/// <param name="Error">Why it failed; <see cref="ConflictFirst"/> when the failure was the re-read after a conflict.</param>
/// <param name="ConflictFirst">The write met a conflict before the failure (the re-read failed).</param>
public sealed record StateWriteOutcome<T>(StateWriteResult Result, GrainState<T> Attempt, GrainState<T>? Stored, Exception? Error, bool ConflictFirst);

/// <summary>
/// "Write with the ETag; on a conflict re-read, never retry blindly": the one way both grains store their state. Whoever
/// wrote first wins; the caller decides how to merge what it reads back. Never throws: a cancelled token or a missed
/// <c>deadline</c> is a failed write like any other (the callers pass their deadlines here).
/// </summary>
public static class StateWrite
{
    public static async Task<StateWriteOutcome<T>> WriteAsync<T>(
        IGrainStorage storage, string stateName, GrainId grainId, GrainState<T> attempt, TimeSpan deadline, CancellationToken cancellationToken)
        where T : new()
    {
        ArgumentNullException.ThrowIfNull(storage);
        ArgumentNullException.ThrowIfNull(attempt);
        try
        {
            await storage.WriteStateAsync(stateName, grainId, attempt).WaitAsync(deadline, cancellationToken).ConfigureAwait(false);
            return new(StateWriteResult.Written, attempt, null, null, false);
        }
        catch (InconsistentStateException)
        {
            var current = new GrainState<T>(new T());
            try
            {
                await storage.ReadStateAsync(stateName, grainId, current).WaitAsync(deadline, cancellationToken).ConfigureAwait(false);
                return new(StateWriteResult.Conflict, attempt, current, null, false);
            }
            catch (Exception ex)
            {
                return new(StateWriteResult.Failed, attempt, null, ex, true);
            }
        }
        catch (Exception ex)
        {
            return new(StateWriteResult.Failed, attempt, null, ex, false);
        }
    }
}
