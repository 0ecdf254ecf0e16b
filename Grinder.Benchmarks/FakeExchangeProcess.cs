using System.Diagnostics;
using System.Globalization;
using Grinder.Tests.Infrastructure;

namespace Grinder.Benchmarks;

/// <summary>
/// The fake exchange executable as a child process, so that its CPU time and memory stay out of the silo's figures
/// (CPU per poll, heap per grain). Killed on dispose.
/// </summary>
internal sealed class FakeExchangeProcess : IAsyncDisposable
{
    private readonly Process _process;

    private FakeExchangeProcess(Process process, Uri baseUrl)
    {
        _process = process;
        BaseUrl = baseUrl;
    }

    public Uri BaseUrl { get; }

    /// <summary>CPU time (user + system) the fake has used so far.</summary>
    public TimeSpan Cpu
    {
        get
        {
            _process.Refresh();
            return _process.TotalProcessorTime;
        }
    }

    public static string KeyOf(string account) => "key-" + account;

    public static string SecretOf(string account) => "secret-" + account;

    /// <summary>Starts the fake with one API key per account; <paramref name="generateEvery"/> zero means no trades at all.</summary>
    public static async Task<FakeExchangeProcess> StartAsync(IEnumerable<string> accounts, string symbols, TimeSpan generateEvery, int generateCount = 1)
    {
        var url = $"http://127.0.0.1:{FreePorts.Next().ToString(CultureInfo.InvariantCulture)}/";
        var start = new ProcessStartInfo("dotnet")
        {
            UseShellExecute = false,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            WorkingDirectory = AppContext.BaseDirectory,
        };
        string[] arguments =
        [
            Path.Combine(AppContext.BaseDirectory, "Grinder.FakeBinance.dll"),
            "--urls", url,
            "--symbols", symbols,
            "--generate-every", generateEvery.ToString("c", CultureInfo.InvariantCulture),
            "--generate-count", generateCount.ToString(CultureInfo.InvariantCulture),
            // Far above anything these runs send: the governor must not shape the figures (its limits have their own tests).
            "--weight-limit", "1000000000",
            "--Logging:LogLevel:Default=Warning",
        ];
        foreach (var argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        foreach (var account in accounts)
        {
            start.ArgumentList.Add("--account");
            start.ArgumentList.Add($"{KeyOf(account)}:{SecretOf(account)}");
        }

        var process = Process.Start(start) ?? throw new InvalidOperationException("could not start the fake exchange");
        process.OutputDataReceived += (_, _) => { };
        process.ErrorDataReceived += (_, e) =>
        {
            if (e.Data is not null)
            {
                Console.Error.WriteLine("fake exchange: " + e.Data);
            }
        };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();

        var fake = new FakeExchangeProcess(process, new Uri(url));
        using var http = new HttpClient { BaseAddress = fake.BaseUrl, Timeout = TimeSpan.FromSeconds(2) };
        await BenchReport.WaitAsync(
            async () =>
            {
                if (process.HasExited)
                {
                    throw new InvalidOperationException($"the fake exchange exited with code {process.ExitCode}");
                }

                try
                {
                    return (await http.GetAsync("_fake/status")).IsSuccessStatusCode;
                }
                catch (HttpRequestException)
                {
                    return false;
                }
                catch (TaskCanceledException)
                {
                    return false;
                }
            },
            TimeSpan.FromSeconds(60),
            "the fake exchange to listen");
        return fake;
    }

    public async ValueTask DisposeAsync()
    {
        if (!_process.HasExited)
        {
            _process.Kill(entireProcessTree: true);
            await _process.WaitForExitAsync();
        }

        _process.Dispose();
    }
}
