using System.Diagnostics;
using System.Text;

namespace Grinder.Tests.Infrastructure;

/// <summary>The silo as a real child process (<c>dotnet Grinder.Silo.dll</c>), for start-up, signal and exit-code behaviour.</summary>
public sealed class SiloProcess : IAsyncDisposable
{
    private readonly Process process;
    private readonly StringBuilder output = new();
    private readonly object sync = new();

    private SiloProcess(Process process)
    {
        this.process = process;
    }

    public string Output
    {
        get
        {
            lock (sync)
            {
                return output.ToString();
            }
        }
    }

    public int? ExitCode => process.HasExited ? process.ExitCode : null;

    /// <summary>The silo's process id (the dotnet host runs the silo itself), for /proc readings.</summary>
    public int Pid => process.Id;

    public static SiloProcess Start(IDictionary<string, string?> environment, params string[] args)
    {
        var dll = Path.Combine(AppContext.BaseDirectory, "Grinder.Silo.dll");
        var info = new ProcessStartInfo("dotnet")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            WorkingDirectory = AppContext.BaseDirectory,
        };
        info.ArgumentList.Add(dll);
        foreach (var arg in args)
        {
            info.ArgumentList.Add(arg);
        }

        // Start from a clean slate: the test runner's own FILL_* or GRINDER_* variables must not leak in.
        foreach (var key in info.Environment.Keys.Where(key => key.StartsWith("GRINDER", StringComparison.Ordinal) || key.StartsWith("FILL_", StringComparison.Ordinal) || key.StartsWith("BINANCE_", StringComparison.Ordinal) || key.StartsWith("Grinder__", StringComparison.Ordinal)).ToList())
        {
            info.Environment.Remove(key);
        }

        info.Environment["DOTNET_ENVIRONMENT"] = "Production";
        info.Environment["ASPNETCORE_ENVIRONMENT"] = "Production";
        foreach (var (key, value) in environment)
        {
            info.Environment[key] = value;
        }

        var process = new Process { StartInfo = info, EnableRaisingEvents = true };
        var silo = new SiloProcess(process);
        process.OutputDataReceived += (_, e) => silo.Append(e.Data);
        process.ErrorDataReceived += (_, e) => silo.Append(e.Data);
        process.Start();
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return silo;
    }

    public async Task<int> WaitForExitAsync(TimeSpan timeout)
    {
        using var cancellation = new CancellationTokenSource(timeout);
        await process.WaitForExitAsync(cancellation.Token);
        return process.ExitCode;
    }

    /// <summary>Sends SIGTERM, as <c>docker stop</c> or systemd would.</summary>
    public void Terminate()
    {
        if (!process.HasExited)
        {
            using var kill = Process.Start("kill", ["-TERM", process.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)]);
            kill.WaitForExit();
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (!process.HasExited)
        {
            process.Kill(entireProcessTree: true);
            await process.WaitForExitAsync();
        }

        process.Dispose();
    }

    private void Append(string? line)
    {
        if (line is null)
        {
            return;
        }

        lock (sync)
        {
            output.AppendLine(line);
        }
    }
}
