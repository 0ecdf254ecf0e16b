// Benchmark harnesses (see docs/benchmarks.md). Run: dotnet run -c Release --project Grinder.Benchmarks -- <name> [--arg value ...]
using Grinder.Benchmarks;

var harnesses = new Dictionary<string, Func<BenchArgs, Task<int>>>(StringComparer.OrdinalIgnoreCase)
{
    ["parse"] = _ => Task.FromResult(ParseBenchmark.Run()),
    ["backfill"] = BackfillBenchmark.RunAsync,
    ["fanout"] = FanoutBenchmark.RunAsync,
    ["metrics"] = MetricsBenchmark.RunAsync,
    ["failover"] = FailoverBenchmark.RunAsync,
    ["memory"] = MemoryBenchmark.RunAsync,
    ["stream"] = StreamBenchmark.RunAsync,
    ["ledger"] = LedgerInsertBenchmark.RunAsync,
    ["quiet"] = QuietPollBenchmark.RunAsync,
    ["csv"] = CsvExportBenchmark.RunAsync,
};

if (args.Length == 0 || !harnesses.TryGetValue(args[0], out var run))
{
    Console.WriteLine($"Grinder.Benchmarks: name one of: {string.Join(", ", harnesses.Keys)}");
    return args.Length == 0 ? 0 : 2;
}

BenchArgs arguments;
try
{
    arguments = new BenchArgs(args[1..]);
}
catch (ArgumentException error)
{
    Console.Error.WriteLine($"{args[0]}: {error.Message}");
    return 2;
}

try
{
    return await run(arguments);
}
catch (ArgumentException error) when (error.ParamName is null)
{
    Console.Error.WriteLine($"{args[0]}: {error.Message}");
    return 2;
}
