using System.Diagnostics;
using System.Globalization;
using Grinder.Silo.Storage;
using Grinder.Tests.Infrastructure;
using Microsoft.Extensions.Logging.Abstractions;
using Npgsql;
using static Grinder.Benchmarks.BenchReport;

namespace Grinder.Benchmarks;

/// <summary>
/// CSV export: <c>GET /fills?account=..&amp;format=csv</c> of a silo process (PostgreSQL mode) against
/// <c>psql \copy (SELECT ...) TO</c> of the same rows, same columns and order, on the same server, both written to a
/// file, alternating, order flipped every round. The ledger is filled by binary COPY straight into grinder_fills (this
/// harness only reads). The silo is a child process so that its peak resident set (VmHWM of /proc/PID/status) is its
/// own: read after start and a small export, and after every export of the big account; constant memory means the
/// peak does not grow with the rows exported.
/// </summary>
internal static class CsvExportBenchmark
{
    private const string Big = "export-big";
    private const string Small = "export-small";

    // The endpoint's columns (FillCsv.Header) in its order and with its row order (time, symbol, trade id, side).
    private const string SelectSql =
        "SELECT trade_id, order_id, symbol, side, price, qty, quote_qty, realized_pnl, commission, commission_asset, time_ms, buyer, maker, "
        + "position_side, account, source, first_seen_ms, first_seen_by, pre_ledger FROM grinder_fills WHERE account = '{0}' ORDER BY time_ms, symbol, trade_id, side";

    public static async Task<int> RunAsync(BenchArgs args)
    {
        var rows = args.Int("rows", 1_000_000);
        var smallRows = args.Int("small-rows", 100_000);
        var rounds = args.Int("rounds", 3);
        args.RejectUnknown();
        Header("csv", args);
        var psql = FindPsql();
        Console.WriteLine($"setup: throwaway PostgreSQL (fsync off), ledger filled by binary COPY into grinder_fills: {rows:N0} rows of {Big}, {smallRows:N0} of {Small} "
            + $"(one symbol, 1,000-row pages of generated fills); silo as a child process (PostgreSQL mode, ingest off); {rounds} rounds of one export each way, order flipped every round; "
            + $"both sinks are files in one temp directory; psql: {psql}");

        await using var database = await (await PostgresServer.GetAsync()).CreateDatabaseAsync();
        await PostgresSchemaMigrator.MigrateAsync(database.ConnectionString, NullLogger.Instance, CancellationToken.None);
        var fill = Stopwatch.StartNew();
        await FillAsync(database.ConnectionString, Big, rows, 1_000_000_000);
        await FillAsync(database.ConnectionString, Small, smallRows, 5_000_000_000);
        await database.QueryAsync("ANALYZE grinder_fills");
        Console.WriteLine(Invariant($"ledger filled in {fill.Elapsed.TotalSeconds:0.0} s"));

        using var files = new TempDirectory();
        var port = FreePorts.Next();
        var baseUrl = new Uri($"http://127.0.0.1:{port.ToString(CultureInfo.InvariantCulture)}/");
        var settings = SiloSettings.Quiet();
        settings["GRINDER_POSTGRES"] = database.ConnectionString;
        settings["ASPNETCORE_URLS"] = baseUrl.ToString();
        settings["Grinder:Orleans:SiloPort"] = FreePorts.Next().ToString(CultureInfo.InvariantCulture);
        settings["Grinder:Orleans:GatewayPort"] = FreePorts.Next().ToString(CultureInfo.InvariantCulture);
        settings.WithAccounts([Big, Small], "BTCUSDT");
        await using var silo = SiloProcess.Start(settings.AsEnvironment());
        using var http = new HttpClient { BaseAddress = baseUrl, Timeout = TimeSpan.FromMinutes(10) };
        await WaitAsync(
            async () =>
            {
                if (silo.ExitCode is { } code)
                {
                    throw new InvalidOperationException($"the silo exited with code {code}:\n{silo.Output}");
                }

                try
                {
                    return (await http.GetAsync("healthz")).IsSuccessStatusCode;
                }
                catch (HttpRequestException)
                {
                    return false;
                }
            },
            TimeSpan.FromMinutes(2),
            "the silo's /healthz");

        var sink = Path.Combine(files.Path, "export.csv");
        var small = await HttpExportAsync(http, Small, sink);
        var baseline = Memory(silo.Pid);
        Console.WriteLine(Invariant($"after start and one export of {Small} ({small}): silo {baseline}"));

        var viaHttp = new List<Export>();
        var viaPsql = new List<Export>();
        var peaks = new List<double>();
        for (var round = 1; round <= rounds; round++)
        {
            for (var half = 0; half < 2; half++)
            {
                if ((round + half) % 2 == 0)
                {
                    viaHttp.Add(await HttpExportAsync(http, Big, sink));
                    var memory = Memory(silo.Pid);
                    peaks.Add(memory.PeakMiB);
                    Console.WriteLine($"round {round} GET /fills csv: {viaHttp[^1]}; silo {memory}");
                }
                else
                {
                    viaPsql.Add(await PsqlExportAsync(psql, database.ConnectionString, Big, sink));
                    Console.WriteLine($"round {round} psql \\copy: {viaPsql[^1]}");
                }
            }

            foreach (var export in new[] { viaHttp[^1], viaPsql[^1] })
            {
                if (export.Rows != rows)
                {
                    throw new InvalidOperationException($"an export wrote {export.Rows:N0} rows, expected {rows:N0}");
                }
            }

            if (viaHttp[^1].Bytes != viaPsql[^1].Bytes)
            {
                Console.WriteLine(Invariant($"note: sizes differ, HTTP {viaHttp[^1].Bytes:N0} bytes, psql {viaPsql[^1].Bytes:N0} bytes (line ends and boolean spelling: CRLF and true/false against LF and t/f)"));
            }
        }

        var ratios = viaHttp.Zip(viaPsql, (h, p) => h.RowsPerSecond / p.RowsPerSecond).ToList();
        Console.WriteLine($"GET /fills csv: {Spread(viaHttp.Select(e => e.RowsPerSecond).ToList(), "N0")} rows/s; psql \\copy: {Spread(viaPsql.Select(e => e.RowsPerSecond).ToList(), "N0")} rows/s");
        Console.WriteLine($"ratio HTTP / psql: {Spread(ratios, "0.00")} (goal >= 0.3)");
        Console.WriteLine(Invariant($"silo peak RSS (VmHWM): {baseline.PeakMiB:0.0} MiB before the big exports, {peaks.Max():0.0} MiB after {rounds} exports of {rows:N0} rows ({viaHttp[^1].Bytes / 1048576.0:0} MiB of CSV each): grew {peaks.Max() - baseline.PeakMiB:0.0} MiB"));
        return 0;
    }

    /// <summary>Binary COPY of <paramref name="count"/> generated fills of <paramref name="account"/> into grinder_fills, in one statement.</summary>
    private static async Task FillAsync(string connectionString, string account, int count, long firstId)
    {
        await using var connection = new NpgsqlConnection(connectionString);
        await connection.OpenAsync();
        var startMs = DateTimeOffset.UtcNow.AddDays(-30).ToUnixTimeMilliseconds();
        await using var writer = await connection.BeginBinaryImportAsync($"COPY grinder_fills ({LedgerRows.Columns}) FROM STDIN (FORMAT BINARY)");
        for (var done = 0; done < count; done += 1000)
        {
            var page = LedgerRows.Page("BTCUSDT", firstId + done, Math.Min(1000, count - done), startMs + (done * 50L));
            await LedgerRows.WriteRowsAsync(writer, account, "reconcile", startMs, page);
        }

        await writer.CompleteAsync();
    }

    private static async Task<Export> HttpExportAsync(HttpClient http, string account, string sink)
    {
        var start = Stopwatch.GetTimestamp();
        using var response = await http.GetAsync($"fills?account={account}&format=csv", HttpCompletionOption.ResponseHeadersRead);
        response.EnsureSuccessStatusCode();
        await using var body = await response.Content.ReadAsStreamAsync();
        await using var file = new FileStream(sink, FileMode.Create, FileAccess.Write, FileShare.None, 1 << 16);
        var lines = 0L;
        var bytes = 0L;
        var buffer = new byte[1 << 16];
        int read;
        while ((read = await body.ReadAsync(buffer)) > 0)
        {
            lines += buffer.AsSpan(0, read).Count((byte)'\n');
            bytes += read;
            await file.WriteAsync(buffer.AsMemory(0, read));
        }

        await file.FlushAsync();
        return new Export(lines - 1, bytes, Stopwatch.GetElapsedTime(start));
    }

    private static async Task<Export> PsqlExportAsync(string psql, string connectionString, string account, string sink)
    {
        var connection = new NpgsqlConnectionStringBuilder(connectionString);
        var start = new ProcessStartInfo(psql) { UseShellExecute = false, RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var argument in (string[])["-X", "-q", "-v", "ON_ERROR_STOP=1", "-h", connection.Host!, "-p", connection.Port.ToString(CultureInfo.InvariantCulture), "-U", connection.Username!, "-d", connection.Database!,
                     "-c", $"\\copy ({string.Format(CultureInfo.InvariantCulture, SelectSql, account)}) TO '{sink}' WITH (FORMAT csv, HEADER)"])
        {
            start.ArgumentList.Add(argument);
        }

        start.Environment["PGPASSWORD"] = connection.Password;
        var clock = Stopwatch.GetTimestamp();
        using var process = Process.Start(start)!;
        var error = process.StandardError.ReadToEndAsync();
        await process.StandardOutput.ReadToEndAsync();
        await process.WaitForExitAsync();
        var elapsed = Stopwatch.GetElapsedTime(clock);
        if (process.ExitCode != 0)
        {
            throw new InvalidOperationException($"psql failed ({process.ExitCode}): {await error}");
        }

        var lines = 0L;
        await using (var file = File.OpenRead(sink))
        {
            var buffer = new byte[1 << 16];
            int read;
            while ((read = await file.ReadAsync(buffer)) > 0)
            {
                lines += buffer.AsSpan(0, read).Count((byte)'\n');
            }
        }

        return new Export(lines - 1, new FileInfo(sink).Length, elapsed);
    }

    private static string FindPsql()
    {
        var candidates = Directory.Exists("/usr/lib/postgresql")
            ? Directory.EnumerateDirectories("/usr/lib/postgresql").OrderDescending().Select(d => Path.Combine(d, "bin", "psql"))
            : [];
        return candidates.Concat(["/usr/local/bin/psql", "/usr/bin/psql"]).FirstOrDefault(File.Exists)
            ?? throw new InvalidOperationException("psql not found (it comes with the PostgreSQL client package)");
    }

    /// <summary>Resident set now and its peak since the process started (VmRSS, VmHWM of /proc/PID/status).</summary>
    private static MemoryReading Memory(int pid)
    {
        double Field(string name) => double.Parse(
            File.ReadLines($"/proc/{pid.ToString(CultureInfo.InvariantCulture)}/status").Single(line => line.StartsWith(name + ":", StringComparison.Ordinal))
                .Split(':', 2)[1].Trim().Split(' ')[0],
            CultureInfo.InvariantCulture) / 1024;
        return new MemoryReading(Field("VmRSS"), Field("VmHWM"));
    }

    private sealed record MemoryReading(double RssMiB, double PeakMiB)
    {
        public override string ToString() => Invariant($"RSS {RssMiB:0.0} MiB, peak RSS (VmHWM) {PeakMiB:0.0} MiB");
    }

    private sealed record Export(long Rows, long Bytes, TimeSpan Elapsed)
    {
        public double RowsPerSecond => Rows / Elapsed.TotalSeconds;

        public override string ToString() => Invariant($"{Rows:N0} rows, {Bytes / 1048576.0:0.0} MiB in {Elapsed.TotalSeconds:0.00} s = {RowsPerSecond:N0} rows/s");
    }
}
