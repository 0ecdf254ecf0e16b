// Benchmark harnesses are added by the issues that measure something (see docs/benchmarks.md).
Console.WriteLine("Grinder.Benchmarks: no benchmark selected.");
