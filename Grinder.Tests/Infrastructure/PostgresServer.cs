using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Runtime.InteropServices;
using Npgsql;

namespace Grinder.Tests.Infrastructure;

/// <summary>
/// The PostgreSQL server of this test run: the one named by <c>GRINDER_TEST_POSTGRES</c> (an admin
/// connection string; the role needs CREATEDB and CREATEROLE), or else a throwaway server started from
/// the local PostgreSQL binaries on a free loopback port and removed when the test process exits.
/// </summary>
public sealed class PostgresServer
{
    /// <summary>Environment variable naming an existing server to use instead of a throwaway one.</summary>
    public const string EnvironmentVariable = "GRINDER_TEST_POSTGRES";

    private const string AdminRole = "grinder_admin";
    private const string DirectoryPrefix = "grinder-pg-";
    private static readonly TimeSpan StartTimeout = TimeSpan.FromSeconds(60);
    private static readonly TimeSpan StopTimeout = TimeSpan.FromSeconds(10);
    private static readonly Lazy<Task<PostgresServer>> Shared = new(StartAsync);

    private readonly string? _directory;
    private readonly ConcurrentQueue<string> _serverLog = new();
    private readonly Func<Process>? _launch;
    private Process? _process;

    private PostgresServer(string adminConnectionString, string? directory = null, Func<Process>? launch = null)
    {
        AdminConnectionString = adminConnectionString;
        _directory = directory;
        _launch = launch;
    }

    /// <summary>Connection string of a superuser-like role on the server's maintenance database.</summary>
    public string AdminConnectionString { get; }

    /// <summary>The server shared by every test of this run, started on first use.</summary>
    public static Task<PostgresServer> GetAsync() => Shared.Value;

    /// <summary>
    /// A throwaway server of its own, for a test that restarts it (<see cref="RestartAsync"/>): the shared server
    /// serves other test classes at the same time. With <see cref="EnvironmentVariable"/> set, the named server.
    /// Stop it with <see cref="StopAsync"/>.
    /// </summary>
    public static Task<PostgresServer> StartDedicatedAsync() => StartAsync();

    /// <summary>
    /// Takes every connection of <paramref name="database"/> away at once, as a PostgreSQL restart does. A throwaway
    /// server is really restarted: fast shutdown (SIGINT, what <c>pg_ctl stop -m fast</c> sends: active transactions
    /// roll back, clients are disconnected), then started again on the same port and data directory. A server named
    /// by <see cref="EnvironmentVariable"/> is not ours to restart: there every backend connected to the database is
    /// ended with <c>pg_terminate_backend</c> instead, which is what the application sees of a restart.
    /// </summary>
    /// <returns>How long the server did not accept connections.</returns>
    public async Task<TimeSpan> RestartAsync(PostgresDatabase database)
    {
        var down = Stopwatch.StartNew();
        if (_launch is null)
        {
            await using var connection = new NpgsqlConnection(new NpgsqlConnectionStringBuilder(AdminConnectionString) { Pooling = false }.ConnectionString);
            await connection.OpenAsync();
            await using var command = new NpgsqlCommand(
                "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE datname = @name AND pid <> pg_backend_pid()", connection);
            command.Parameters.AddWithValue("name", database.Name);
            await command.ExecuteScalarAsync();
            return down.Elapsed;
        }

        await ShutdownAsync();
        StartProcess();
        if (!await WaitUntilAcceptingAsync())
        {
            throw new InvalidOperationException($"The test PostgreSQL server did not come back after a restart. Its log:\n{RecentLog()}");
        }

        // Idle pooled connections of this server died with it; the next admin command must not pick one up.
        NpgsqlConnection.ClearPool(new NpgsqlConnection(AdminConnectionString));
        return down.Elapsed;
    }

    /// <summary>Stops a server from <see cref="StartDedicatedAsync"/> and removes its files; a server named by <see cref="EnvironmentVariable"/> is left alone.</summary>
    public async Task StopAsync()
    {
        if (_launch is not null)
        {
            await ShutdownAsync();
            TryDeleteDirectory(_directory!);
        }
    }

    /// <summary>Creates an empty database owned by a new login role, for one test class.</summary>
    public async Task<PostgresDatabase> CreateDatabaseAsync(CancellationToken cancellationToken = default)
    {
        var name = "grinder_test_" + Guid.NewGuid().ToString("N");
        var role = name + "_app";
        var password = Convert.ToHexStringLower(Guid.NewGuid().ToByteArray());
        await using (var connection = new NpgsqlConnection(AdminConnectionString))
        {
            await connection.OpenAsync(cancellationToken);
            // Identifiers are generated above (letters, digits, underscores), so they need no quoting;
            // CREATE DATABASE cannot take parameters.
            foreach (var sql in new[]
                     {
                         $"CREATE ROLE {role} LOGIN PASSWORD '{password}'",
                         $"CREATE DATABASE {name} OWNER {role}",
                     })
            {
                await using var command = new NpgsqlCommand(sql, connection);
                await command.ExecuteNonQueryAsync(cancellationToken);
            }
        }

        var admin = new NpgsqlConnectionStringBuilder(AdminConnectionString) { Database = name };
        var app = new NpgsqlConnectionStringBuilder(admin.ConnectionString)
        {
            Username = role,
            Password = password,
        };
        return new PostgresDatabase(this, name, role, app.ConnectionString, admin.ConnectionString);
    }

    internal async Task DropDatabaseAsync(PostgresDatabase database)
    {
        NpgsqlConnection.ClearPool(new NpgsqlConnection(database.ConnectionString));
        NpgsqlConnection.ClearPool(new NpgsqlConnection(database.AdminConnectionString));
        await using var connection = new NpgsqlConnection(AdminConnectionString);
        await connection.OpenAsync();
        foreach (var sql in new[]
                 {
                     $"DROP DATABASE IF EXISTS {database.Name} WITH (FORCE)",
                     $"DROP ROLE IF EXISTS {database.AppRole}",
                 })
        {
            await using var command = new NpgsqlCommand(sql, connection);
            await command.ExecuteNonQueryAsync();
        }
    }

    private static async Task<PostgresServer> StartAsync()
    {
        var external = Environment.GetEnvironmentVariable(EnvironmentVariable);
        if (!string.IsNullOrWhiteSpace(external))
        {
            var server = new PostgresServer(external);
            await using var connection = new NpgsqlConnection(external);
            await connection.OpenAsync();
            return server;
        }

        var binaries = FindBinaries();
        var asPostgresUser = geteuid() == 0;
        var directory = Path.Combine(asPostgresUser ? "/tmp" : Path.GetTempPath(), DirectoryPrefix + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(Path.Combine(directory, "socket"));
        try
        {
            StartJanitor(directory);
            if (asPostgresUser)
            {
                // initdb and postgres refuse to run as root; the Debian packages create a "postgres" user.
                await RunAsync("chown", ["-R", "postgres", directory], asPostgresUser: false);
            }

            var data = Path.Combine(directory, "data");
            await RunAsync(
                Path.Combine(binaries, "initdb"),
                ["-D", data, "-U", AdminRole, "--auth=trust", "--encoding=UTF8", "--locale=C", "--no-sync"],
                asPostgresUser);
            return await StartServerAsync(binaries, directory, data, asPostgresUser);
        }
        catch
        {
            TryDeleteDirectory(directory);
            throw;
        }
    }

    private static async Task<PostgresServer> StartServerAsync(string binaries, string directory, string data, bool asPostgresUser)
    {
        // A port found free can be taken by someone else before postgres binds it: try a few.
        for (var attempt = 1; ; attempt++)
        {
            var port = FreeLoopbackPort();
            var connectionString = new NpgsqlConnectionStringBuilder
            {
                Host = "127.0.0.1",
                Port = port,
                Username = AdminRole,
                Database = "postgres",
                Timeout = 5,
            }.ConnectionString;

            var server = new PostgresServer(connectionString, directory, () => Launch(
                Path.Combine(binaries, "postgres"),
                [
                    "-D", data, "-p", port.ToString(CultureInfo.InvariantCulture),
                    "-k", Path.Combine(directory, "socket"),
                    "-c", "listen_addresses=127.0.0.1",
                    // Throwaway data: durability settings off make the suite faster, nothing else.
                    "-c", "fsync=off", "-c", "synchronous_commit=off", "-c", "full_page_writes=off",
                    "-c", "max_connections=300", "-c", "shared_buffers=64MB",
                ],
                asPostgresUser));
            server.StartProcess();
            if (await server.WaitUntilAcceptingAsync())
            {
                // The test host may be killed moments after its last test, too soon to wait for a
                // shutdown here: start PostgreSQL's fast shutdown and leave the rest to the janitor.
                AppDomain.CurrentDomain.ProcessExit += (_, _) => server.BeginShutdown();
                return server;
            }

            var log = server.RecentLog();
            server.StopAfterFailedStart();
            if (attempt == 3 || !log.Contains("could not bind", StringComparison.OrdinalIgnoreCase))
            {
                TryDeleteDirectory(directory);
                throw new InvalidOperationException($"The test PostgreSQL server did not start. Its log:\n{log}");
            }
        }
    }

    private void StartProcess()
    {
        var started = _launch!();
        started.ErrorDataReceived += (_, e) => Remember(e.Data);
        started.OutputDataReceived += (_, e) => Remember(e.Data);
        started.BeginErrorReadLine();
        started.BeginOutputReadLine();
        _process = started;
    }

    /// <summary>Fast shutdown, then immediate shutdown (SIGQUIT) if the server is still up after <see cref="StopTimeout"/>.</summary>
    private async Task ShutdownAsync()
    {
        var running = _process!;
        foreach (var signal in new[] { SigInt, SigQuit })
        {
            if (running.HasExited)
            {
                break;
            }

            if (PostmasterPid(Path.Combine(_directory!, "data")) is { } pid)
            {
                _ = kill(pid, signal);
            }

            try
            {
                await running.WaitForExitAsync().WaitAsync(StopTimeout);
            }
            catch (TimeoutException)
            {
                // Next, stronger signal.
            }
        }

        if (!running.HasExited)
        {
            running.Kill(entireProcessTree: true);
            await running.WaitForExitAsync().WaitAsync(StopTimeout);
        }
    }

    private async Task<bool> WaitUntilAcceptingAsync()
    {
        var probe = new NpgsqlConnectionStringBuilder(AdminConnectionString) { Pooling = false, Timeout = 2 }.ConnectionString;
        var deadline = Stopwatch.StartNew();
        while (deadline.Elapsed < StartTimeout)
        {
            if (_process!.HasExited)
            {
                return false;
            }

            try
            {
                await using var connection = new NpgsqlConnection(probe);
                await connection.OpenAsync();
                return true;
            }
            catch (NpgsqlException)
            {
                // Not accepting connections yet (socket refused, or "the database system is starting up").
                await Task.Delay(100);
            }
        }

        return false;
    }

    private void Remember(string? line)
    {
        if (line is null)
        {
            return;
        }

        _serverLog.Enqueue(line);
        while (_serverLog.Count > 200 && _serverLog.TryDequeue(out _))
        {
        }
    }

    private string RecentLog() => string.Join('\n', _serverLog);

    private void BeginShutdown()
    {
        if (PostmasterPid(Path.Combine(_directory!, "data")) is { } pid)
        {
            _ = kill(pid, SigInt);
        }
    }

    private void StopAfterFailedStart()
    {
        if (!_process!.HasExited)
        {
            BeginShutdown();
            if (!_process.WaitForExit(StopTimeout))
            {
                _process.Kill(entireProcessTree: true);
                _process.WaitForExit(StopTimeout);
            }
        }
    }

    /// <summary>
    /// Starts a detached shell that waits for this test process to end (however it ends: normally,
    /// killed by the test runner, or aborted), then stops the server and deletes its directory.
    /// </summary>
    private static void StartJanitor(string directory)
    {
        const string script = """
            exec >/dev/null 2>&1 </dev/null
            owner=$1 dir=$2
            while kill -0 "$owner"; do sleep 0.2; done
            pid=$(head -n 1 "$dir/data/postmaster.pid")
            if [ -n "$pid" ]; then
                kill -INT "$pid"
                n=0; while kill -0 "$pid" && [ $n -lt 100 ]; do sleep 0.1; n=$((n+1)); done
                kill -QUIT "$pid"
                n=0; while kill -0 "$pid" && [ $n -lt 50 ]; do sleep 0.1; n=$((n+1)); done
            fi
            rm -rf "$dir"
            """;
        // setsid -f puts the janitor in its own session, outside this process tree, so a runner that
        // kills the test host's whole tree does not take the janitor with it.
        var setsid = new[] { "/usr/bin/setsid", "/bin/setsid" }.FirstOrDefault(File.Exists);
        var start = new ProcessStartInfo(setsid ?? "/bin/sh") { UseShellExecute = false };
        foreach (var argument in setsid is null ? ["-c", script] : (string[])["-f", "/bin/sh", "-c", script])
        {
            start.ArgumentList.Add(argument);
        }

        start.ArgumentList.Add("grinder-pg-janitor");
        start.ArgumentList.Add(Environment.ProcessId.ToString(CultureInfo.InvariantCulture));
        start.ArgumentList.Add(directory);
        using var janitor = Process.Start(start) ?? throw new InvalidOperationException("Could not start the PostgreSQL janitor.");
        if (setsid is not null)
        {
            janitor.WaitForExit(StopTimeout); // setsid -f returns once the janitor is forked off
        }
    }

    private static int? PostmasterPid(string data)
    {
        try
        {
            var firstLine = File.ReadLines(Path.Combine(data, "postmaster.pid")).FirstOrDefault();
            return int.TryParse(firstLine, NumberStyles.None, CultureInfo.InvariantCulture, out var pid) ? pid : null;
        }
        catch (IOException)
        {
            return null;
        }
        catch (UnauthorizedAccessException)
        {
            return null;
        }
    }

    private static void TryDeleteDirectory(string path)
    {
        try
        {
            Directory.Delete(path, recursive: true);
        }
        catch (IOException)
        {
            // Best effort: the janitor removes it once this process is gone.
        }
        catch (UnauthorizedAccessException)
        {
        }
    }

    private static string FindBinaries()
    {
        var candidates = new List<string>();
        var fromPgConfig = TryRun("pg_config", "--bindir");
        if (!string.IsNullOrWhiteSpace(fromPgConfig))
        {
            candidates.Add(fromPgConfig.Trim());
        }

        if (Directory.Exists("/usr/lib/postgresql"))
        {
            // Newest major version first: /usr/lib/postgresql/17/bin before /usr/lib/postgresql/15/bin.
            candidates.AddRange(Directory.EnumerateDirectories("/usr/lib/postgresql")
                .OrderByDescending(d => int.TryParse(Path.GetFileName(d), out var major) ? major : 0)
                .Select(d => Path.Combine(d, "bin")));
        }

        candidates.AddRange(["/usr/local/bin", "/usr/local/pgsql/bin", "/usr/bin"]);
        candidates.AddRange((Environment.GetEnvironmentVariable("PATH") ?? "").Split(':', StringSplitOptions.RemoveEmptyEntries));

        var found = candidates.FirstOrDefault(d =>
            File.Exists(Path.Combine(d, "initdb")) && File.Exists(Path.Combine(d, "postgres")));
        return found ?? throw new InvalidOperationException(
            "The PostgreSQL tests need a PostgreSQL server. No initdb/postgres binaries were found in " +
            string.Join(", ", candidates.Distinct()) + ". Install them with `apt-get install -y postgresql`, " +
            $"or set {EnvironmentVariable} to an admin connection string of a running server.");
    }

    private static int FreeLoopbackPort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    private static Process Launch(string executable, IReadOnlyList<string> arguments, bool asPostgresUser)
    {
        var start = new ProcessStartInfo
        {
            RedirectStandardError = true,
            RedirectStandardOutput = true,
            UseShellExecute = false,
        };
        var runuser = new[] { "/usr/sbin/runuser", "/sbin/runuser", "/usr/bin/runuser" }.FirstOrDefault(File.Exists);
        if (asPostgresUser && runuser is not null)
        {
            start.FileName = runuser;
            foreach (var argument in (string[])["-u", "postgres", "--", executable, .. arguments])
            {
                start.ArgumentList.Add(argument);
            }
        }
        else if (asPostgresUser)
        {
            // su takes one shell command line: quote every word for /bin/sh.
            start.FileName = "su";
            var command = "exec " + string.Join(' ', new[] { executable }.Concat(arguments).Select(ShellQuote));
            foreach (var argument in (string[])["postgres", "-s", "/bin/sh", "-c", command])
            {
                start.ArgumentList.Add(argument);
            }
        }
        else
        {
            start.FileName = executable;
            foreach (var argument in arguments)
            {
                start.ArgumentList.Add(argument);
            }
        }

        return Process.Start(start) ?? throw new InvalidOperationException($"Could not start {executable}.");
    }

    private static string ShellQuote(string word) => "'" + word.Replace("'", "'\\''", StringComparison.Ordinal) + "'";

    private static async Task RunAsync(string executable, IReadOnlyList<string> arguments, bool asPostgresUser)
    {
        using var process = Launch(executable, arguments, asPostgresUser);
        var output = process.StandardOutput.ReadToEndAsync();
        var error = process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync().WaitAsync(StartTimeout);
        if (process.ExitCode != 0)
        {
            throw new InvalidOperationException(
                $"{Path.GetFileName(executable)} failed with exit code {process.ExitCode}:\n{await output}\n{await error}");
        }
    }

    private static string? TryRun(string executable, string argument)
    {
        try
        {
            using var process = Process.Start(new ProcessStartInfo(executable, argument)
            {
                RedirectStandardOutput = true,
                RedirectStandardError = true,
                UseShellExecute = false,
            });
            if (process is null)
            {
                return null;
            }

            var output = process.StandardOutput.ReadToEnd();
            process.WaitForExit();
            return process.ExitCode == 0 ? output : null;
        }
        catch (System.ComponentModel.Win32Exception)
        {
            return null; // not installed
        }
    }

    private const int SigInt = 2;
    private const int SigQuit = 3;

    // POSIX kill(2) and geteuid(2): .NET has no API to send SIGINT/SIGQUIT or to ask for the effective user.
    [DllImport("libc", SetLastError = true)]
    private static extern int kill(int pid, int signal);

    [DllImport("libc")]
    private static extern uint geteuid();
}
