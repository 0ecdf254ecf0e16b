using Orleans.Storage;

namespace Grinder.Tests.Infrastructure;

/// <summary>
/// A fault-injection device around a real grain storage provider (like the fake exchange's faults): the next write of one
/// state name can be held at a gate until the test releases it, or failed; everything else passes straight through.
/// </summary>
public sealed class HeldWriteStorage(IGrainStorage inner, string watchedState) : IGrainStorage
{
    private readonly Lock _gate = new();
    private (TaskCompletionSource Started, TaskCompletionSource Release)? _armed;
    private TaskCompletionSource? _holding;
    private (Exception Error, TaskCompletionSource Failed)? _failNext;

    /// <summary>The real provider underneath, for reading and writing as another writer would.</summary>
    public IGrainStorage Inner => inner;

    /// <summary>The next write of the watched state waits until <see cref="Release"/>; the returned task completes when it begins. Later writes pass.</summary>
    public Task HoldNextWrite()
    {
        lock (_gate)
        {
            var started = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            _armed = (started, new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously));
            return started.Task;
        }
    }

    /// <summary>Lets the held write (or, if none has begun, the next one) go on to the real provider.</summary>
    public void Release()
    {
        lock (_gate)
        {
            _holding?.TrySetResult();
            _holding = null;
            _armed?.Release.TrySetResult();
            _armed = null;
        }
    }

    /// <summary>The next write of the watched state throws <paramref name="error"/> without reaching the real provider; the returned task completes when it has.</summary>
    public Task FailNextWrite(Exception error)
    {
        lock (_gate)
        {
            var failed = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            _failNext = (error, failed);
            return failed.Task;
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
        (Exception Error, TaskCompletionSource Failed)? fail;
        lock (_gate)
        {
            fail = _failNext;
            _failNext = null;
            if (fail is null && _armed is { } hold)
            {
                _armed = null;
                _holding = hold.Release;
                wait = hold.Release.Task;
                hold.Started.TrySetResult();
            }
        }

        if (fail is { } failure)
        {
            failure.Failed.TrySetResult();
            throw failure.Error;
        }

        if (wait is not null)
        {
            await wait;
        }

        await inner.WriteStateAsync(stateName, grainId, grainState);
    }

    public Task ClearStateAsync<T>(string stateName, GrainId grainId, IGrainState<T> grainState) =>
        inner.ClearStateAsync(stateName, grainId, grainState);
}
