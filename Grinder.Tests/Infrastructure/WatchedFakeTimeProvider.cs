using System.Globalization;
using Microsoft.Extensions.Time.Testing;

namespace Grinder.Tests.Infrastructure;

/// <summary>
/// A <see cref="FakeTimeProvider"/> that also records when each timer it creates is first due. Code under test often arms
/// its next timer on a thread-pool continuation after an <see cref="FakeTimeProvider.Advance"/>; advancing again before
/// that timer exists would arm it from the later time, so such a test first waits here for the timer. Time and timers
/// themselves stay entirely <see cref="FakeTimeProvider"/>'s. Reading the clock to record a due time would move it, so
/// leave <see cref="FakeTimeProvider.AutoAdvanceAmount"/> at zero.
/// </summary>
public sealed class WatchedFakeTimeProvider(DateTimeOffset start) : FakeTimeProvider(start)
{
    private readonly Lock _gate = new();
    private readonly List<DateTimeOffset> _armed = [];
    private TaskCompletionSource _changed = new(TaskCreationOptions.RunContinuationsAsynchronously);

    /// <summary>When each timer created so far was first due, in creation order; fired or disposed ones stay listed.</summary>
    public IReadOnlyList<DateTimeOffset> ArmedDueTimes
    {
        get
        {
            lock (_gate)
            {
                return [.. _armed];
            }
        }
    }

    public override ITimer CreateTimer(TimerCallback callback, object? state, TimeSpan dueTime, TimeSpan period)
    {
        // Record only once the timer exists, so a test that saw the record and then advances does fire it.
        var timer = base.CreateTimer(callback, state, dueTime, period);
        if (dueTime != Timeout.InfiniteTimeSpan)
        {
            TaskCompletionSource changed;
            lock (_gate)
            {
                _armed.Add(GetUtcNow() + dueTime);
                changed = _changed;
                _changed = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            }

            changed.TrySetResult();
        }

        return timer;
    }

    /// <summary>Waits until a timer due at <paramref name="due"/> has been created; <paramref name="timeout"/> only bounds a failing test.</summary>
    public async Task WaitForTimerDueAsync(DateTimeOffset due, TimeSpan timeout)
    {
        using var cancel = new CancellationTokenSource(timeout);
        while (true)
        {
            Task changed;
            lock (_gate)
            {
                if (_armed.Contains(due))
                {
                    return;
                }

                changed = _changed.Task;
            }

            try
            {
                await changed.WaitAsync(cancel.Token);
            }
            catch (OperationCanceledException) when (cancel.IsCancellationRequested)
            {
                throw new TimeoutException($"no timer due at {due:O} within {timeout}; armed: [{string.Join(", ", ArmedDueTimes.Select(t => t.ToString("O", CultureInfo.InvariantCulture)))}]");
            }
        }
    }
}
