// Benchmark harnesses (see docs/benchmarks.md). Run: dotnet run -c Release --project Grinder.Benchmarks -- <name>
using Grinder.Benchmarks;

var harnesses = new Dictionary<string, Func<int>>(StringComparer.OrdinalIgnoreCase)
{
    ["parse"] = ParseBenchmark.Run,
};

if (args.Length == 0 || !harnesses.TryGetValue(args[0], out var run))
{
    Console.WriteLine($"Grinder.Benchmarks: name one of: {string.Join(", ", harnesses.Keys)}");
    return args.Length == 0 ? 0 : 2;
}

return run();
