using System.Diagnostics;
using Grinder.Grains.Binance;
using Grinder.Grains.Ledger;
using Grinder.Silo.Ledger;
using Grinder.Silo.Storage;
using Grinder.Tests.Infrastructure;
using Microsoft.Extensions.Logging.Abstractions;
using Npgsql;
using static Grinder.Benchmarks.BenchReport;

namespace Grinder.Benchmarks;

/// <summary>
/// Ledger insert: rows per second of <see cref="PostgresFillLedger.AppendAsync"/> with page-sized batches against a
/// binary COPY of the same rows, on the same server, in the same process and run. Baselines: COPY into a plain table
/// with grinder_fills' columns and nothing else (the goal's reference), and COPY into a copy of grinder_fills with its
/// key, index and checks (what the table alone costs, so the rest is what the ledger's statement adds). Each contender
/// writes one block of batches per round, the order rotating from round to round; one batch = one statement on a
/// pooled connection, as the ledger does.
/// </summary>
internal static class LedgerInsertBenchmark
{
    private const string Account = "bench-ledger";
    private const string Source = "reconcile";
    private const string PlainTable = "bench_copy_plain";
    private const string KeyedTable = "bench_copy_keyed";

    /// <summary>Batches per contender before the measured rounds: tiered JIT and the pools settle (fewer left round 1 at a quarter of the later rates).</summary>
    private const int Warmup = 20;

    public static async Task<int> RunAsync(BenchArgs args)
    {
        var batch = args.Int("batch", 1000);
        var block = args.Int("block", 50);
        var rounds = args.Int("rounds", 5);
        var sqliteBatches = args.Int("sqlite-batches", 100);
        args.RejectUnknown();
        Header("ledger", args);
        Console.WriteLine($"setup: throwaway PostgreSQL (fsync off, synchronous_commit off), fresh database migrated by the silo's migrator; batches of {batch:N0} rows of one symbol "
            + $"(one page), {block} batches per contender per round, {rounds} rounds (+ a warm-up round of {Warmup} batches each), order rotating; connection string with the silo's defaults; "
            + $"COPY tables: {PlainTable} (LIKE grinder_fills: same columns, no key, no index, no check) and {KeyedTable} (LIKE grinder_fills INCLUDING ALL: same key, index and checks)");

        await using var database = await (await PostgresServer.GetAsync()).CreateDatabaseAsync();
        await PostgresSchemaMigrator.MigrateAsync(database.ConnectionString, NullLogger.Instance, CancellationToken.None);
        var connectionString = PostgresConnectionDefaults.Apply(database.ConnectionString);
        await using var dataSource = NpgsqlDataSource.Create(connectionString);
        await using (var setup = await dataSource.OpenConnectionAsync())
        {
            await using var create = new NpgsqlCommand($"CREATE TABLE {PlainTable} (LIKE grinder_fills); CREATE TABLE {KeyedTable} (LIKE grinder_fills INCLUDING ALL)", setup);
            await create.ExecuteNonQueryAsync();
        }

        var postmaster = ParentOf(await database.ScalarAsync<int>("SELECT pg_backend_pid()"));
        await using var ledger = new PostgresFillLedger(connectionString, PostgresSchemaGate.Open(), NullLogger<PostgresFillLedger>.Instance);
        var seenMs = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();
        var contenders = new (string Name, Func<List<ParsedTrade>, Task> Write)[]
        {
            ("ledger AppendAsync", async page =>
            {
                var result = await ledger.AppendAsync(new LedgerBatch(Account, Source, FillFeeder.Poll, seenMs, page), CancellationToken.None);
                if (result.Inserted.Count != page.Count)
                {
                    throw new InvalidOperationException($"the ledger inserted {result.Inserted.Count} of {page.Count} new rows");
                }
            }),
            ("COPY plain table", page => CopyAsync(dataSource, PlainTable, page, seenMs)),
            ("COPY keyed table", page => CopyAsync(dataSource, KeyedTable, page, seenMs)),
        };

        var nextId = 1_000_000_000L;
        var nextTime = seenMs - (365L * 24 * 3600 * 1000);
        List<List<ParsedTrade>> Pages(int count)
        {
            var pages = new List<List<ParsedTrade>>(count);
            for (var i = 0; i < count; i++)
            {
                pages.Add(LedgerRows.Page("BTCUSDT", nextId, batch, nextTime));
                nextId += batch;
                nextTime += batch * 50L;
            }

            return pages;
        }

        var samples = contenders.Select(_ => new List<Sample>()).ToArray();
        for (var round = 0; round <= rounds; round++)
        {
            // The same rows for every contender (each writes its own table), built before the clock starts.
            var pages = Pages(round == 0 ? Warmup : block);
            for (var k = 0; k < contenders.Length; k++)
            {
                var c = (k + round) % contenders.Length;
                await using var postgres = new CpuSampler(postmaster);
                var own = OwnCpu();
                var start = Stopwatch.GetTimestamp();
                foreach (var page in pages)
                {
                    await contenders[c].Write(page);
                }

                var elapsed = Stopwatch.GetElapsedTime(start);
                var sample = new Sample(pages.Count * (long)batch, elapsed, OwnCpu() - own, await postgres.StopAsync());
                if (round > 0)
                {
                    samples[c].Add(sample);
                }
            }

            if (round == 0)
            {
                continue;
            }

            var line = string.Join("; ", contenders.Select((contender, c) => $"{contender.Name} {samples[c][^1]}"));
            Console.WriteLine(Invariant($"round {round}: {line}; ledger / plain COPY {samples[0][^1].RowsPerSecond / samples[1][^1].RowsPerSecond:0.00}, ledger / keyed COPY {samples[0][^1].RowsPerSecond / samples[2][^1].RowsPerSecond:0.00}"));
        }

        // Same answer: every contender holds every row, and the ledger counted each once.
        var expected = (long)(Warmup + (rounds * block)) * batch;
        foreach (var table in new[] { "grinder_fills", PlainTable, KeyedTable })
        {
            var rows = await database.ScalarAsync<long>($"SELECT count(*) FROM {table}");
            if (rows != expected)
            {
                throw new InvalidOperationException($"{table} holds {rows:N0} rows, expected {expected:N0}");
            }
        }

        var counted = (await ledger.GetTotalsAsync(Account, CancellationToken.None)).Count;
        if (counted != expected)
        {
            throw new InvalidOperationException($"the ledger counted {counted:N0} fills, expected {expected:N0}");
        }

        Console.WriteLine(Invariant($"check: grinder_fills, {PlainTable} and {KeyedTable} hold {expected:N0} rows each, the ledger's totals count {counted:N0}"));
        for (var c = 0; c < contenders.Length; c++)
        {
            Console.WriteLine($"{contenders[c].Name}: {Spread(samples[c].Select(s => s.RowsPerSecond).ToList(), "N0")} rows/s; "
                + $"PostgreSQL CPU per 1,000 rows {Spread(samples[c].Select(s => s.PostgresMsPer1000).ToList(), "0.0")} ms, harness {Spread(samples[c].Select(s => s.OwnMsPer1000).ToList(), "0.0")} ms");
        }

        Console.WriteLine($"ratio ledger / plain COPY: {Spread(samples[0].Zip(samples[1], (l, p) => l.RowsPerSecond / p.RowsPerSecond).ToList(), "0.00")} (goal >= 0.5)");
        Console.WriteLine($"ratio ledger / keyed COPY: {Spread(samples[0].Zip(samples[2], (l, k) => l.RowsPerSecond / k.RowsPerSecond).ToList(), "0.00")}");
        if (sqliteBatches > 0)
        {
            await SqliteAsync(Pages(sqliteBatches), seenMs);
        }

        return 0;
    }

    /// <summary>
    /// For reference (no baseline of its own): the local mode's SQLite ledger appending the same kind of batches, one
    /// after the other, with the CPU this process spends per 1,000 rows (SQLite runs inside it).
    /// </summary>
    private static async Task SqliteAsync(List<List<ParsedTrade>> pages, long seenMs)
    {
        using var directory = new TempDirectory();
        using var ledger = new SqliteFillLedger(directory.Path, NullLogger<SqliteFillLedger>.Instance);
        var warmup = Math.Max(1, pages.Count / 5);
        foreach (var page in pages.Take(warmup))
        {
            await ledger.AppendAsync(new LedgerBatch(Account, Source, FillFeeder.Poll, seenMs, page), CancellationToken.None);
        }

        var own = OwnCpu();
        var start = Stopwatch.GetTimestamp();
        var rows = 0L;
        foreach (var page in pages.Skip(warmup))
        {
            rows += (await ledger.AppendAsync(new LedgerBatch(Account, Source, FillFeeder.Poll, seenMs, page), CancellationToken.None)).Inserted.Count;
        }

        var elapsed = Stopwatch.GetElapsedTime(start);
        Console.WriteLine(Invariant($"SQLite ledger AppendAsync (local mode, {pages.Count - warmup} batches after {warmup} warm-up): {rows / elapsed.TotalSeconds:N0} rows/s, process CPU {(OwnCpu() - own).TotalMilliseconds * 1000 / rows:0.0} ms per 1,000 rows"));
    }

    private static async Task CopyAsync(NpgsqlDataSource dataSource, string table, List<ParsedTrade> page, long seenMs)
    {
        await using var connection = await dataSource.OpenConnectionAsync();
        var copied = await LedgerRows.CopyAsync(connection, table, Account, Source, seenMs, page);
        if (copied != (ulong)page.Count)
        {
            throw new InvalidOperationException($"COPY wrote {copied} of {page.Count} rows");
        }
    }

    private sealed record Sample(long Rows, TimeSpan Elapsed, TimeSpan OwnCpu, TimeSpan PostgresCpu)
    {
        public double RowsPerSecond => Rows / Elapsed.TotalSeconds;

        public double OwnMsPer1000 => OwnCpu.TotalMilliseconds * 1000 / Rows;

        public double PostgresMsPer1000 => PostgresCpu.TotalMilliseconds * 1000 / Rows;

        public override string ToString() => Invariant($"{RowsPerSecond:N0} rows/s (CPU per 1,000 rows: PostgreSQL {PostgresMsPer1000:0.0} ms, harness {OwnMsPer1000:0.0} ms)");
    }
}
