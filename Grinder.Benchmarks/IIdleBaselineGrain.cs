namespace Grinder.Benchmarks;

/// <summary>The memory harness's baseline: a grain that only exists (no state, no timer).</summary>
public interface IIdleBaselineGrain : IGrainWithStringKey
{
    /// <summary>Activates the grain; does nothing else.</summary>
    Task PingAsync();
}
