using Microsoft.Extensions.Options;

namespace Grinder.FakeBinance;

/// <summary>The executable: <c>dotnet run --project Grinder.FakeBinance -- --urls http://127.0.0.1:9091 --account KEY:SECRET
/// --symbols BTCUSDT,ETHUSDT --generate-every 00:00:02 --generate-count 3</c>.</summary>
internal static class Program
{
    public static async Task<int> Main(string[] args)
    {
        using var host = FakeBinanceHost.CreateBuilder(args).Build();
        try
        {
            await host.RunAsync().ConfigureAwait(false);
            return 0;
        }
        catch (OptionsValidationException ex)
        {
            await Console.Error.WriteLineAsync($"Invalid fake exchange configuration: {string.Join(" ", ex.Failures)}").ConfigureAwait(false);
            return 2;
        }
        catch (InvalidOperationException ex) when (ex.InnerException is not null || ex.Message.Contains("FakeBinance", StringComparison.Ordinal))
        {
            // Binding errors (an unknown FakeBinance setting, a malformed TimeSpan) arrive here.
            await Console.Error.WriteLineAsync($"Invalid fake exchange configuration: {ex.Message}").ConfigureAwait(false);
            return 2;
        }
    }
}
