using Grinder.Tests.Infrastructure;

namespace Grinder.Tests.Silo;

/// <summary>Start-up behaviour of the real silo process: invalid settings stop it with one clear line.</summary>
public sealed class StartupTests
{
    [Theory]
    [InlineData("Grinder__Ingest__PollInterval", "-00:00:05", "Grinder:Ingest:PollInterval")]
    [InlineData("Grinder__Ingest__PollInterval", "00:00:00", "Grinder:Ingest:PollInterval")]
    [InlineData("Grinder__Orleans__SiloPort", "70000", "Grinder:Orleans:SiloPort")]
    public async Task Invalid_configuration_stops_the_silo_with_one_line_naming_the_setting(string variable, string value, string named)
    {
        using var data = new TempDirectory();
        await using var silo = SiloProcess.Start(new Dictionary<string, string?>
        {
            [variable] = value,
            ["GRINDER_DATA_DIR"] = data.Path,
            ["ASPNETCORE_URLS"] = $"http://127.0.0.1:{FreePorts.Next()}",
        });

        var exitCode = await silo.WaitForExitAsync(TimeSpan.FromSeconds(60));

        Assert.Equal(2, exitCode);
        var errorLines = silo.Output.Split('\n').Where(line => line.StartsWith("Invalid configuration:", StringComparison.Ordinal)).ToList();
        var line = Assert.Single(errorLines);
        Assert.Contains(named, line);
    }
}
