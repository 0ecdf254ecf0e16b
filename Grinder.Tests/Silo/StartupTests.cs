using Grinder.Tests.Infrastructure;

namespace Grinder.Tests.Silo;

/// <summary>Start-up behaviour of the real silo process: invalid settings stop it with one clear line.</summary>
public sealed class StartupTests
{
    [Theory]
    [InlineData("Grinder__Ingest__PollInterval=-00:00:05", "Grinder:Ingest:PollInterval")]
    [InlineData("Grinder__Ingest__PollInterval=00:00:00", "Grinder:Ingest:PollInterval")]
    [InlineData("Grinder__Metrics__FlushInterval=00:00:00", "Grinder:Metrics:FlushInterval")]
    [InlineData("Grinder__Ingest__QuarantineLimit=0", "Grinder:Ingest:QuarantineLimit")]
    [InlineData("Grinder__Orleans__SiloPort=70000", "Grinder:Orleans:SiloPort")]
    [InlineData("Grinder__Binance__BaseUrl=not-a-url", "Grinder:Binance:BaseUrl")]
    [InlineData("Grinder__Ingest__PollInterval=5s", "Grinder:Ingest:PollInterval")]
    [InlineData("Grinder__Orleans__SiloPort=abc", "Grinder:Orleans:SiloPort")]
    [InlineData("BINANCE_API_SECRET=orphan-secret-value", "BINANCE_API_KEY and BINANCE_API_SECRET")]
    [InlineData("BINANCE_API_KEY=k1;BINANCE_API_SECRET=s1;Grinder__Symbols= , ", "Grinder:Symbols")]
    [InlineData("Grinder__Accounts__0__Id=desk2;Grinder__Accounts__0__ApiKey=k;Grinder__Accounts__0__ApiSecret=s;Grinder__Accounts__0__Simbols=BTCUSDT", "Grinder:Accounts:0:Simbols")]
    [InlineData("Grinder__Accounts__0__Id=desk2;Grinder__Accounts__0__ApiSecret=lonely-secret", "Grinder:Accounts:0")]
    public async Task Invalid_configuration_stops_the_silo_with_one_line_naming_the_setting(string variables, string named)
    {
        using var data = new TempDirectory();
        var environment = new Dictionary<string, string?>
        {
            ["GRINDER_DATA_DIR"] = data.Path,
            ["ASPNETCORE_URLS"] = $"http://127.0.0.1:{FreePorts.Next()}",
            ["Grinder__Orleans__SiloPort"] = FreePorts.Next().ToString(System.Globalization.CultureInfo.InvariantCulture),
            ["Grinder__Orleans__GatewayPort"] = FreePorts.Next().ToString(System.Globalization.CultureInfo.InvariantCulture),
        };
        foreach (var pair in variables.Split(';'))
        {
            var equals = pair.IndexOf('=', StringComparison.Ordinal);
            environment[pair[..equals]] = pair[(equals + 1)..];
        }

        await using var silo = SiloProcess.Start(environment);

        var exitCode = await silo.WaitForExitAsync(TimeSpan.FromSeconds(60));

        Assert.Equal(2, exitCode);
        var errorLines = silo.Output.Split('\n').Where(line => line.StartsWith("Invalid configuration:", StringComparison.Ordinal)).ToList();
        var line = Assert.Single(errorLines);
        Assert.Contains(named, line);
        Assert.DoesNotContain("orphan-secret-value", silo.Output);
        Assert.DoesNotContain("lonely-secret", silo.Output);
    }
}
