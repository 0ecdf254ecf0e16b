using Orleans.Storage;

namespace Grinder.Tests.Infrastructure;

/// <summary>
/// A fault-injection device around a real grain storage provider (like the fake exchange's faults): writes of one state
/// name can be held at a gate until the test releases them, or failed once; everything else passes straight through.
/// </summary>
public sealed class HeldWriteStorage(IGrainStorage inner, string watchedState) : IGrainStorage
{
    private readonly Lock gate = new();
    private TaskCompletionSource? started;
    private TaskCompletionSource? release;
    private Exception? failNext;
    private int written;

    /// <summary>The real provider underneath, for reading and writing as another writer would.</summary>
    public IGrainStorage Inner => inner;

    /// <summary>Successful writes of the watched state so far.</summary>
    public int Written => Volatile.Read(ref written);

    /// <summary>The next write of the watched state waits until <see cref="Release"/>; the returned task completes when it begins.</summary>
    public Task HoldNextWrite()
    {
        lock (gate)
        {
            started = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            release = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            return started.Task;
        }
    }

    /// <summary>Lets a held write go on to the real provider.</summary>
    public void Release()
    {
        lock (gate)
        {
            release?.TrySetResult();
            release = null;
        }
    }

    /// <summary>The next write of the watched state throws <paramref name="error"/> without reaching the real provider.</summary>
    public void FailNextWrite(Exception error)
    {
        lock (gate)
        {
            failNext = error;
        }
    }

    public Task ReadStateAsync<T>(string stateName, GrainId grainId, IGrainState<T> grainState) =>
        inner.ReadStateAsync(stateName, grainId, grainState);

    public async Task WriteStateAsync<T>(string stateName, GrainId grainId, IGrainState<T> grainState)
    {
        if (stateName != watchedState)
        {
            await inner.WriteStateAsync(stateName, grainId, grainState);
            return;
        }

        Task? wait = null;
        Exception? fail;
        lock (gate)
        {
            fail = failNext;
            failNext = null;
            if (release is not null)
            {
                started!.TrySetResult();
                wait = release.Task;
            }
        }

        if (fail is not null)
        {
            throw fail;
        }

        if (wait is not null)
        {
            await wait;
        }

        await inner.WriteStateAsync(stateName, grainId, grainState);
        Interlocked.Increment(ref written);
    }

    public Task ClearStateAsync<T>(string stateName, GrainId grainId, IGrainState<T> grainState) =>
        inner.ClearStateAsync(stateName, grainId, grainState);
}
