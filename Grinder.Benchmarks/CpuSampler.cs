using System.Globalization;

namespace Grinder.Benchmarks;

/// <summary>
/// CPU time of a process tree (a root and its direct children, e.g. a PostgreSQL postmaster and its backends) and of
/// further single processes, sampled in the background so that processes which exit before the end (pgbench's
/// backends close with it) are counted up to their last sample.
/// </summary>
internal sealed class CpuSampler : IAsyncDisposable
{
    private readonly int _root;
    private readonly HashSet<int> _extra = [];
    private readonly Dictionary<int, (long First, long Last)> _ticks = [];
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _loop;

    public CpuSampler(int root, params int[] extraPids)
    {
        _root = root;
        _extra.UnionWith(extraPids);
        Sample(initial: true);
        _loop = Task.Run(async () =>
        {
            while (!_stop.IsCancellationRequested)
            {
                await Task.Delay(100, CancellationToken.None);
                Sample(initial: false);
            }
        });
    }

    public void Add(int pid)
    {
        lock (_ticks)
        {
            _extra.Add(pid);
        }
    }

    /// <summary>Stops sampling and returns the CPU time used since the sampler started.</summary>
    public async Task<TimeSpan> StopAsync()
    {
        Sample(initial: false);
        await _stop.CancelAsync();
        await _loop;
        Sample(initial: false);
        lock (_ticks)
        {
            return TimeSpan.FromMilliseconds(_ticks.Values.Sum(t => t.Last - t.First) * 10.0);
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        await _loop;
        _stop.Dispose();
    }

    private void Sample(bool initial)
    {
        var rootText = _root.ToString(CultureInfo.InvariantCulture);
        foreach (var directory in Directory.EnumerateDirectories("/proc"))
        {
            if (!int.TryParse(Path.GetFileName(directory), out var pid))
            {
                continue;
            }

            try
            {
                var fields = BenchReport.StatFields(pid);
                lock (_ticks)
                {
                    if (pid != _root && fields[1] != rootText && !_extra.Contains(pid))
                    {
                        continue;
                    }

                    // utime and stime: fields 14 and 15 of the line, 12 and 13 after "(comm) " (proc(5)); USER_HZ = 100.
                    var now = long.Parse(fields[11], CultureInfo.InvariantCulture) + long.Parse(fields[12], CultureInfo.InvariantCulture);
                    _ticks[pid] = _ticks.TryGetValue(pid, out var seen) ? (seen.First, now) : (initial ? now : 0, now);
                }
            }
            catch (IOException)
            {
                // The process ended while we looked.
            }
        }
    }
}
