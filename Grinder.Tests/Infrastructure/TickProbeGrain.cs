namespace Grinder.Tests.Infrastructure;

/// <summary>
/// A counted grain timer on the silo the probe lives on: shows that the silo's grain timers have fired at a given period
/// since the probe started, the observable signal that a poll interval of that silo has passed.
/// </summary>
public interface ITickProbeGrain : IGrainWithStringKey
{
    /// <summary>Starts ticking every <paramref name="period"/>, the first tick one period from now (once per activation).</summary>
    Task StartAsync(TimeSpan period);

    /// <summary>Ticks since <see cref="StartAsync"/>.</summary>
    Task<int> GetTicksAsync();
}

/// <inheritdoc cref="ITickProbeGrain"/>
public sealed class TickProbeGrain : Grain, ITickProbeGrain
{
    private IGrainTimer? _timer;
    private int _ticks;

    public Task StartAsync(TimeSpan period)
    {
        _timer ??= this.RegisterGrainTimer(
            () =>
            {
                _ticks++;
                return Task.CompletedTask;
            },
            new GrainTimerCreationOptions(period, period) { KeepAlive = true });
        return Task.CompletedTask;
    }

    public Task<int> GetTicksAsync() => Task.FromResult(_ticks);
}
