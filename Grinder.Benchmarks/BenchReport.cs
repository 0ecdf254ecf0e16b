using System.Diagnostics;
using System.Globalization;
using System.Reflection;
using System.Runtime;
using System.Runtime.InteropServices;

namespace Grinder.Benchmarks;

/// <summary>Machine line, command line, and small statistics shared by the harnesses.</summary>
internal static class BenchReport
{
    /// <summary>Prints what a figure needs to be read: machine, runtime, build, and the exact command with every parameter.</summary>
    public static void Header(string harness, BenchArgs args)
    {
        var cpu = File.Exists("/proc/cpuinfo")
            ? File.ReadLines("/proc/cpuinfo").FirstOrDefault(line => line.StartsWith("model name", StringComparison.Ordinal))?.Split(':', 2)[1].Trim()
            : null;
        var debug = Assembly.GetExecutingAssembly().GetCustomAttribute<DebuggableAttribute>()?.IsJITOptimizerDisabled == true;
        Console.WriteLine($"machine: nproc={Environment.ProcessorCount}, cpu=\"{cpu ?? "unknown"}\", {RuntimeInformation.FrameworkDescription}, "
            + $"{RuntimeInformation.OSDescription}, gc={(GCSettings.IsServerGC ? "server" : "workstation")}, build={(debug ? "Debug (numbers not valid)" : "Release")}");
        Console.WriteLine($"command: dotnet run -c Release --project Grinder.Benchmarks -- {harness} {args.Used}");
        Console.WriteLine($"started: {DateTimeOffset.UtcNow:u}");
    }

    /// <summary>A duration as the harness arguments take it: <c>250ms</c>, <c>5s</c>.</summary>
    public static string Format(TimeSpan value) =>
        value.TotalMilliseconds < 1000 || value.TotalMilliseconds % 1000 != 0
            ? value.TotalMilliseconds.ToString("0.###", CultureInfo.InvariantCulture) + "ms"
            : value.TotalSeconds.ToString("0.###", CultureInfo.InvariantCulture) + "s";

    public static string Invariant(FormattableString text) => text.ToString(CultureInfo.InvariantCulture);

    /// <summary>Nearest-rank percentile (0 &lt; p ≤ 100) of unsorted samples.</summary>
    public static double Percentile(IReadOnlyCollection<double> samples, double p)
    {
        var sorted = samples.Order().ToArray();
        var rank = (int)Math.Ceiling(p / 100.0 * sorted.Length);
        return sorted[Math.Clamp(rank - 1, 0, sorted.Length - 1)];
    }

    /// <summary>Spread of repeated figures as "median (min..max)".</summary>
    public static string Spread(IReadOnlyCollection<double> values, string format) =>
        values.Count == 1
            ? values.First().ToString(format, CultureInfo.InvariantCulture)
            : Invariant($"{Percentile(values, 50).ToString(format, CultureInfo.InvariantCulture)} (min {values.Min().ToString(format, CultureInfo.InvariantCulture)}, max {values.Max().ToString(format, CultureInfo.InvariantCulture)})");

    /// <summary>CPU time (user + system) of this process.</summary>
    public static TimeSpan OwnCpu()
    {
        using var self = Process.GetCurrentProcess();
        return self.TotalProcessorTime;
    }

    /// <summary>The parent process id of <paramref name="pid"/>.</summary>
    public static int ParentOf(int pid) => int.Parse(StatFields(pid)[1], CultureInfo.InvariantCulture);

    /// <summary>The fields of /proc/PID/stat after "(comm) ", which may itself contain spaces.</summary>
    public static string[] StatFields(int pid)
    {
        var stat = File.ReadAllText($"/proc/{pid.ToString(CultureInfo.InvariantCulture)}/stat");
        return stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
    }

    /// <summary>Full, compacting collection; then the managed heap size in bytes.</summary>
    public static long SettledHeap()
    {
        for (var i = 0; i < 3; i++)
        {
            GCSettings.LargeObjectHeapCompactionMode = GCLargeObjectHeapCompactionMode.CompactOnce;
            GC.Collect(GC.MaxGeneration, GCCollectionMode.Forced, blocking: true, compacting: true);
            GC.WaitForPendingFinalizers();
        }

        return GC.GetTotalMemory(forceFullCollection: true);
    }

    /// <summary>Waits for <paramref name="done"/> with a deadline, sampling every <paramref name="every"/>.</summary>
    public static async Task<TimeSpan> WaitAsync(Func<Task<bool>> done, TimeSpan timeout, string what, TimeSpan? every = null)
    {
        var clock = Stopwatch.StartNew();
        while (!await done())
        {
            if (clock.Elapsed > timeout)
            {
                throw new TimeoutException($"gave up after {timeout.TotalSeconds:0} s waiting for {what}");
            }

            await Task.Delay(every ?? TimeSpan.FromMilliseconds(100));
        }

        return clock.Elapsed;
    }
}
