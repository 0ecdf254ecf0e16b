namespace Grinder.FakeBinance;

/// <summary>Lets waiters await "something changed" instead of sleeping: each <see cref="Notify"/> completes the current task.</summary>
internal sealed class ChangeSignal
{
    private readonly Lock _gate = new();
    private TaskCompletionSource _next = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public Task NextChange
    {
        get
        {
            lock (_gate)
            {
                return _next.Task;
            }
        }
    }

    public void Notify()
    {
        TaskCompletionSource completed;
        lock (_gate)
        {
            completed = _next;
            _next = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        }

        completed.TrySetResult();
    }

    /// <summary>Re-evaluates <paramref name="probe"/> after every change until it yields a value, or throws <see cref="TimeoutException"/>.</summary>
    public async Task<T> WaitAsync<T>(Func<T?> probe, TimeSpan timeout, string what, CancellationToken cancellationToken)
        where T : class
    {
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        deadline.CancelAfter(timeout);
        while (true)
        {
            var changed = NextChange;
            if (probe() is { } found)
            {
                return found;
            }

            try
            {
                await changed.WaitAsync(deadline.Token).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
            {
                throw new TimeoutException($"Timed out after {timeout} waiting for {what}.");
            }
        }
    }
}
