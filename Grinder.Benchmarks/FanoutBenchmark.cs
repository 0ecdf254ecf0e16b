using System.Diagnostics;
using System.Globalization;
using System.Text.RegularExpressions;
using Grinder.Grains;
using Grinder.Grains.Ingest;
using Grinder.Tests.Infrastructure;
using Npgsql;
using static Grinder.Benchmarks.BenchReport;

namespace Grinder.Benchmarks;

/// <summary>
/// Fan-out: N accounts on one in-process silo with PostgreSQL grain storage, against the fake exchange in its own
/// process. Saves are counted in the database (every successful save bumps one stored version). Per round:
/// (B) capacity: every account polled back to back with PollNowAsync; (A, first round) the configured poll interval;
/// then with the silo stopped, (C) the grain-storage write statement alone (read from the OrleansQuery table, executed
/// the way the ADO.NET provider does: open, execute, close, on the silo's connection string with its defaults) and
/// pgbench single-row upserts, both with as many connections as the silo used. CPU of the silo, the fake, PostgreSQL and pgbench is read from /proc. Last, (D): a
/// silo with so many accounts on the configured interval that their own timers saturate it (<c>--saturate</c>).
/// </summary>
internal static partial class FanoutBenchmark
{
    private const string Symbol = "BTCUSDT";

    public static async Task<int> RunAsync(BenchArgs args)
    {
        var count = args.Int("accounts", 200);
        var pollInterval = args.Duration("poll-interval", TimeSpan.FromSeconds(1));
        var warmup = args.Duration("warmup", TimeSpan.FromSeconds(15));
        var window = args.Duration("seconds", TimeSpan.FromSeconds(20));
        var rounds = args.Int("rounds", 2);
        var trickle = args.Duration("trickle", TimeSpan.FromSeconds(2));
        var fixedClients = args.Int("clients", 0);
        var connectionOptions = args.Text("connection-options", string.Empty);
        var saturate = args.Int("saturate", 4000);
        args.RejectUnknown();
        Header("fanout", args);
        var pgbench = FindPgbench();
        Console.WriteLine($"setup: {count} accounts x 1 symbol, poll interval {Format(pollInterval)}, PostgreSQL grain storage (throwaway server: fsync off, synchronous_commit off), "
            + $"fake exchange in a child process generating {(trickle > TimeSpan.Zero ? $"1 trade per account every {Format(trickle)}" : "no trades")}, weight limits 1,000,000,000/min; "
            + $"warm-up {Format(warmup)}, windows of {Format(window)}, {rounds} rounds; silo connection string options: {(connectionOptions.Length == 0 ? "none (Npgsql defaults)" : connectionOptions)}");

        var accounts = SiloSettings.AccountNames("fan-", count);
        await using var database = await (await PostgresServer.GetAsync()).CreateDatabaseAsync();
        var siloConnection = connectionOptions.Length == 0 ? database.ConnectionString : database.ConnectionString + ";" + connectionOptions;
        var postmaster = ParentOf(await database.ScalarAsync<int>("SELECT pg_backend_pid()"));
        await using var fake = await FakeExchangeProcess.StartAsync(accounts, Symbol, trickle);
        var capacity = new List<double>();
        var writes = new List<double>();
        var upserts = new List<double>();
        var clients = fixedClients;
        for (var round = 1; round <= rounds; round++)
        {
            Measured polls, sustained = null!;
            int payloadBytes;
            await using (var silo = await StartSiloAsync(database, siloConnection, fake, accounts, pollInterval, "fan-"))
            {
                await Task.Delay(warmup);

                var grains = accounts.Select(a => silo.Grains.GetGrain<IFillIngestGrain>(ConfiguredAccount.GrainKeyFor(a))).ToList();
                polls = await MeasureAsync(database, postmaster, fake, window, grains.Select(grain => (Func<Task>)grain.PollNowAsync).ToList());
                Console.WriteLine($"round {round} (B) capacity, every account polled back to back: {polls}");
                if (round == 1)
                {
                    await Task.Delay(TimeSpan.FromSeconds(3));
                    sustained = await MeasureAsync(database, postmaster, fake, window, []);
                    Console.WriteLine($"round {round} (A) timer-driven, poll interval {Format(pollInterval)}: {sustained}");
                }

                payloadBytes = (int)await database.ScalarAsync<decimal>("SELECT avg(octet_length(payload)) FROM grinder_grain_state WHERE grain_type = 'ingest'");
                await silo.StopAsync();
            }

            clients = clients > 0 ? clients : Math.Max(1, polls.MaxConnections);
            // The silo's own pool: its connection string with the defaults the silo adds (one pool, as in production).
            var write = await ProviderWritesAsync(database, Grinder.Silo.Storage.PostgresConnectionDefaults.Apply(siloConnection), postmaster, clients, window, payloadBytes, round);
            Console.WriteLine($"round {round} (C) grain-storage write statement alone: {write}");
            // (C)'s idle pooled connections would hold slots pgbench needs (the silo has two pools now: grain storage and ledger).
            NpgsqlConnection.ClearPool(new NpgsqlConnection(Grinder.Silo.Storage.PostgresConnectionDefaults.Apply(siloConnection)));
            var upsert = await PgbenchAsync(pgbench, database, postmaster, clients, window, payloadBytes);
            Console.WriteLine($"round {round} pgbench single-row upserts ({payloadBytes}-byte payload = average stored account state, -M prepared): {upsert}");
            capacity.Add(polls.PerSecond / upsert.PerSecond);
            writes.Add(write.PerSecond / upsert.PerSecond);
            upserts.Add(upsert.PerSecond);
            Console.WriteLine(Invariant($"round {round}: (B)/pgbench {polls.PerSecond / upsert.PerSecond:0.00}, (C)/pgbench {write.PerSecond / upsert.PerSecond:0.00}; ")
                + Invariant($"total CPU per operation: poll {polls.TotalCpuMs:0.00} ms, storage write {write.TotalCpuMs:0.00} ms, pgbench upsert {upsert.TotalCpuMs:0.00} ms"));
            if (round == 1)
            {
                var offered = count / pollInterval.TotalSeconds;
                Console.WriteLine(Invariant($"(A) sustained: {sustained.PerSecond:N1} saves/s of {offered:N0} offered ({count} accounts / {Format(pollInterval)}) = {sustained.PerSecond / offered:0.00}; ")
                    + Invariant($"{sustained.PerSecond / upsert.PerSecond:0.000} of pgbench (demand-bound); silo CPU per poll {sustained.OwnCpuMs:0.00} ms"));
            }
        }

        if (saturate > 0)
        {
            var saturated = await SaturateAsync(database, siloConnection, postmaster, saturate, pollInterval, warmup, window, trickle);
            Console.WriteLine($"(D) timer-driven at saturation, {saturate} accounts every {Format(pollInterval)}: {saturated}");
            Console.WriteLine(Invariant($"(D) sustained: {saturated.PerSecond:N0} saves/s of {saturate / pollInterval.TotalSeconds:N0} offered = {saturated.PerSecond / (saturate / pollInterval.TotalSeconds):0.00}; ")
                + Invariant($"{saturated.PerSecond / upserts[^1]:0.00} of the last round's pgbench ({upserts[^1]:N0} upserts/s); total CPU per poll {saturated.TotalCpuMs:0.00} ms"));
        }

        Console.WriteLine($"capacity (B) saves/s / pgbench upserts/s with {clients} clients: {Spread(capacity, "0.00")} (goal >= 0.5)");
        Console.WriteLine($"storage write alone (C) / pgbench: {Spread(writes, "0.00")}; pgbench: {Spread(upserts, "N0")} upserts/s");
        return 0;
    }

    /// <summary>
    /// (D) The issue's reading taken literally: so many accounts on the configured interval that the silo cannot keep
    /// up, driven by their own timers only (no caller outside the silo), so the sustained saves per second are its
    /// capacity. Own fake exchange process with these accounts, own silo on the same database.
    /// </summary>
    private static async Task<Measured> SaturateAsync(PostgresDatabase database, string siloConnection, int postmaster, int count, TimeSpan pollInterval, TimeSpan warmup, TimeSpan window, TimeSpan trickle)
    {
        var accounts = SiloSettings.AccountNames("sat-", count);
        await using var fake = await FakeExchangeProcess.StartAsync(accounts, Symbol, trickle);
        await using var silo = await StartSiloAsync(database, siloConnection, fake, accounts, pollInterval, "sat-");
        await Task.Delay(warmup);
        var measured = await MeasureAsync(database, postmaster, fake, window, []);
        await silo.StopAsync();
        return measured;
    }

    /// <summary>A silo polling <paramref name="accounts"/> (names starting with <paramref name="prefix"/>), once each has saved a poll.</summary>
    private static async Task<InProcessSilo> StartSiloAsync(PostgresDatabase database, string siloConnection, FakeExchangeProcess fake, IReadOnlyList<string> accounts, TimeSpan pollInterval, string prefix)
    {
        var settings = SiloSettings.Ingest(fake.BaseUrl, pollInterval).WithAccounts(accounts, Symbol);
        settings["GRINDER_POSTGRES"] = siloConnection;
        var silo = await InProcessSilo.StartAsync(settings);
        var started = await database.ScalarAsync<DateTime>("SELECT now()");
        await WaitAsync(
            async () => await database.ScalarAsync<long>(
                "SELECT count(*) FROM grinder_grain_state WHERE grain_type = 'ingest' AND grain_id_ext LIKE @prefix AND written_at > @started",
                ("prefix", ConfiguredAccount.GrainKeyFor(prefix) + "%"),
                ("started", started)) == accounts.Count,
            TimeSpan.FromMinutes(5),
            $"a save of every {prefix}* account");
        return silo;
    }

    private static string FindPgbench()
    {
        var candidates = Directory.Exists("/usr/lib/postgresql")
            ? Directory.EnumerateDirectories("/usr/lib/postgresql").OrderDescending().Select(d => Path.Combine(d, "bin", "pgbench"))
            : [];
        return candidates.Concat(["/usr/local/bin/pgbench", "/usr/bin/pgbench"]).FirstOrDefault(File.Exists)
            ?? throw new InvalidOperationException("pgbench not found (it comes with the PostgreSQL server package)");
    }

    /// <summary>Saves per second (sum of stored versions) over <paramref name="window"/>, while <paramref name="loops"/> each run back to back.</summary>
    private static async Task<Measured> MeasureAsync(PostgresDatabase database, int postmaster, FakeExchangeProcess fake, TimeSpan window, IReadOnlyList<Func<Task>> loops)
    {
        using var stop = new CancellationTokenSource();
        var drivers = loops.Select(loop => Task.Run(async () =>
        {
            while (!stop.IsCancellationRequested)
            {
                await loop();
            }
        })).ToList();
        if (drivers.Count > 0)
        {
            await Task.Delay(TimeSpan.FromSeconds(3));
        }

        var role = new NpgsqlConnectionStringBuilder(database.ConnectionString).Username!;
        var connections = Task.Run(async () =>
        {
            var max = 0L;
            while (!stop.IsCancellationRequested)
            {
                max = Math.Max(max, await database.ScalarAsync<long>("SELECT count(*) FROM pg_stat_activity WHERE usename = @role", ("role", role)));
                await Task.Delay(250);
            }

            return (int)max;
        });
        const string saves = "SELECT coalesce(sum(version), 0)::bigint FROM grinder_grain_state WHERE grain_type = 'ingest'";
        await using var postgres = new CpuSampler(postmaster);
        var before = (Saves: await database.ScalarAsync<long>(saves), Own: OwnCpu(), Fake: fake.Cpu, Ticks: Stopwatch.GetTimestamp());
        await Task.Delay(window);
        var after = (Saves: await database.ScalarAsync<long>(saves), Own: OwnCpu(), Fake: fake.Cpu, Ticks: Stopwatch.GetTimestamp());
        var postgresCpu = await postgres.StopAsync();
        await stop.CancelAsync();
        await Task.WhenAll(drivers);
        var done = Math.Max(1, after.Saves - before.Saves);
        return new Measured(
            "saves",
            done / Stopwatch.GetElapsedTime(before.Ticks, after.Ticks).TotalSeconds,
            (after.Own - before.Own).TotalMilliseconds / done,
            (after.Fake - before.Fake).TotalMilliseconds / done,
            postgresCpu.TotalMilliseconds / done,
            await connections);
    }

    /// <summary>
    /// The provider's own write statement (query key WriteToStorageKey), one row per client with its version as ETag,
    /// each write on a connection opened from the pool and closed again, as the ADO.NET grain storage does.
    /// </summary>
    private static async Task<Measured> ProviderWritesAsync(PostgresDatabase database, string connectionString, int postmaster, int clients, TimeSpan window, int payloadBytes, int round)
    {
        var statement = await database.ScalarAsync<string>("SELECT querytext FROM orleansquery WHERE querykey = 'WriteToStorageKey'")
            ?? throw new InvalidOperationException("no WriteToStorageKey query in OrleansQuery");
        var payload = new byte[payloadBytes];
        var done = 0L;
        await using var postgres = new CpuSampler(postmaster);
        var own = OwnCpu();
        var clock = Stopwatch.StartNew();
        await Task.WhenAll(Enumerable.Range(0, clients).Select(client => Task.Run(async () =>
        {
            int? version = null;
            while (clock.Elapsed < window)
            {
                await using var connection = new NpgsqlConnection(connectionString);
                await connection.OpenAsync();
                await using var command = new NpgsqlCommand(statement, connection);
                command.Parameters.AddWithValue("ServiceId", "fanout-bench-" + round.ToString(CultureInfo.InvariantCulture));
                command.Parameters.AddWithValue("GrainTypeString", "bench");
                command.Parameters.AddWithValue("GrainTypeHash", 7);
                command.Parameters.AddWithValue("GrainIdHash", client);
                command.Parameters.AddWithValue("GrainIdN0", 0L);
                command.Parameters.AddWithValue("GrainIdN1", 0L);
                command.Parameters.AddWithValue("GrainIdExtensionString", "bench/" + client.ToString(CultureInfo.InvariantCulture));
                command.Parameters.Add(new NpgsqlParameter("GrainStateVersion", NpgsqlTypes.NpgsqlDbType.Integer) { Value = (object?)version ?? DBNull.Value });
                command.Parameters.AddWithValue("PayloadBinary", payload);
                version = await command.ExecuteScalarAsync() as int? ?? throw new InvalidOperationException("write conflict in the storage benchmark");
                Interlocked.Increment(ref done);
            }
        })));
        var elapsed = clock.Elapsed;
        var ownCpu = OwnCpu() - own;
        var postgresCpu = await postgres.StopAsync();
        return new Measured("writes", done / elapsed.TotalSeconds, ownCpu.TotalMilliseconds / done, 0, postgresCpu.TotalMilliseconds / done, clients);
    }

    private static async Task<Measured> PgbenchAsync(string pgbench, PostgresDatabase database, int postmaster, int clients, TimeSpan duration, int payloadBytes)
    {
        await database.QueryAsync("DROP TABLE IF EXISTS bench_upsert");
        await database.QueryAsync("CREATE TABLE bench_upsert (k integer PRIMARY KEY, version integer NOT NULL, payload bytea, written_at timestamptz NOT NULL)");
        var connection = new NpgsqlConnectionStringBuilder(database.ConnectionString);
        await database.QueryAsync($"GRANT ALL ON TABLE bench_upsert TO {connection.Username}");

        // One row per client (pgbench's :client_id), upserted with a version bump like a grain-state write.
        var payload = Convert.ToHexStringLower(new byte[payloadBytes]);
        using var scripts = new TempDirectory();
        var script = Path.Combine(scripts.Path, "upsert.sql");
        await File.WriteAllTextAsync(script,
            $"INSERT INTO bench_upsert (k, version, payload, written_at) VALUES (:client_id, 1, '\\x{payload}'::bytea, now()) "
            + "ON CONFLICT (k) DO UPDATE SET version = bench_upsert.version + 1, payload = EXCLUDED.payload, written_at = EXCLUDED.written_at;\n");

        var start = new ProcessStartInfo(pgbench) { UseShellExecute = false, RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var argument in (string[])["-n", "-M", "prepared", "-c", clients.ToString(CultureInfo.InvariantCulture),
                     "-j", Math.Min(clients, Environment.ProcessorCount).ToString(CultureInfo.InvariantCulture),
                     "-T", ((int)Math.Ceiling(duration.TotalSeconds)).ToString(CultureInfo.InvariantCulture), "-f", script,
                     "-h", connection.Host!, "-p", connection.Port.ToString(CultureInfo.InvariantCulture), "-U", connection.Username!, connection.Database!])
        {
            start.ArgumentList.Add(argument);
        }

        start.Environment["PGPASSWORD"] = connection.Password;
        await using var cpu = new CpuSampler(postmaster);
        using var process = Process.Start(start)!;
        cpu.Add(process.Id);
        var output = process.StandardOutput.ReadToEndAsync();
        var error = process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync();
        var used = await cpu.StopAsync();
        var text = await output;
        var tps = TpsLine().Match(text);
        var processed = ProcessedLine().Match(text);
        if (process.ExitCode != 0 || !tps.Success || !processed.Success)
        {
            throw new InvalidOperationException($"pgbench failed ({process.ExitCode}):\n{text}\n{await error}");
        }

        var transactions = long.Parse(processed.Groups[1].Value, CultureInfo.InvariantCulture);

        // pgbench's own CPU is the client side; it is booked with PostgreSQL's here and reported as one figure.
        return new Measured("upserts", double.Parse(tps.Groups[1].Value, CultureInfo.InvariantCulture), 0, 0, used.TotalMilliseconds / transactions, clients);
    }

    [GeneratedRegex(@"tps = ([0-9.]+) \(without initial connection time\)")]
    private static partial Regex TpsLine();

    [GeneratedRegex(@"number of transactions actually processed: ([0-9]+)")]
    private static partial Regex ProcessedLine();

    /// <summary>Operations per second and CPU per operation: this process (silo or client), the fake exchange, PostgreSQL.</summary>
    private sealed record Measured(string Unit, double PerSecond, double OwnCpuMs, double FakeCpuMs, double PostgresCpuMs, int MaxConnections)
    {
        public double TotalCpuMs => OwnCpuMs + FakeCpuMs + PostgresCpuMs;

        public override string ToString() => Invariant(
            $"{PerSecond:N0} {Unit}/s; CPU per operation: harness process {OwnCpuMs:0.000} ms, fake exchange {FakeCpuMs:0.000} ms, PostgreSQL{(Unit == "upserts" ? " + pgbench" : string.Empty)} {PostgresCpuMs:0.000} ms; {MaxConnections} connections");
    }
}
