namespace Grinder.Tests.Infrastructure;

/// <summary>
/// Spans in which a sample may fail: from the moment a silo is taken down until the cluster is whole again (the metrics
/// grain, if it moves, refuses to serve until it has rebuilt its counters, and a scrape that asks meanwhile can time out).
/// A sample that overlaps one, at its start, its end or by one beginning or ending in between, is excused; any other failed
/// sample is a finding.
/// </summary>
public sealed class Disruptions
{
    private int _active;
    private int _edges;

    /// <summary>Begins a disruption; disposing the result ends it.</summary>
    public IDisposable Begin()
    {
        Interlocked.Increment(ref _active);
        Interlocked.Increment(ref _edges);
        return new End(this);
    }

    /// <summary>Taken before a sample, for <see cref="Overlapped"/> after it.</summary>
    public (int Edges, bool Active) Mark() => (Volatile.Read(ref _edges), Volatile.Read(ref _active) > 0);

    /// <summary>Whether a sample that began at <paramref name="mark"/> and ended now overlapped a disruption.</summary>
    public bool Overlapped((int Edges, bool Active) mark) => mark.Active || Volatile.Read(ref _active) > 0 || Volatile.Read(ref _edges) != mark.Edges;

    private sealed class End(Disruptions owner) : IDisposable
    {
        private int _ended;

        public void Dispose()
        {
            if (Interlocked.Exchange(ref _ended, 1) == 0)
            {
                Interlocked.Decrement(ref owner._active);
                Interlocked.Increment(ref owner._edges);
            }
        }
    }
}
