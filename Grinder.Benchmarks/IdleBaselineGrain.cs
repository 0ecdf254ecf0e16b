namespace Grinder.Benchmarks;

/// <summary>The cost of an activation as such, to set an account grain's memory against.</summary>
public sealed class IdleBaselineGrain : Grain, IIdleBaselineGrain
{
    public Task PingAsync() => Task.CompletedTask;
}
