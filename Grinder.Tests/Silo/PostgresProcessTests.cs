using System.Globalization;
using System.Text.Json;
using Grinder.Tests.Infrastructure;

namespace Grinder.Tests.Silo;

/// <summary>Two real silo processes pointed at one PostgreSQL database form one cluster.</summary>
public sealed class PostgresProcessTests
{
    [Fact]
    public async Task Two_silo_processes_on_one_database_show_two_active_silos_in_healthz()
    {
        await using var database = await (await PostgresServer.GetAsync()).CreateDatabaseAsync();
        var ports = new[] { FreePorts.Next(), FreePorts.Next() };
        var silos = ports.Select(port => SiloProcess.Start(new Dictionary<string, string?>
        {
            ["GRINDER_POSTGRES"] = database.ConnectionString,
            ["ASPNETCORE_URLS"] = $"http://127.0.0.1:{port}",
            ["Grinder__Orleans__SiloPort"] = FreePorts.Next().ToString(CultureInfo.InvariantCulture),
            ["Grinder__Orleans__GatewayPort"] = FreePorts.Next().ToString(CultureInfo.InvariantCulture),
        })).ToList();
        try
        {
            foreach (var port in ports)
            {
                using var http = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{port}/"), Timeout = TimeSpan.FromSeconds(10) };
                var health = await Eventually.ReturnsAsync(
                    async () =>
                    {
                        using var response = await http.GetAsync("healthz");
                        return (Status: (int)response.StatusCode, Body: await response.Content.ReadAsStringAsync());
                    },
                    result => result.Status == 200 && ActiveSilos(result.Body) == 2,
                    TimeSpan.FromSeconds(90),
                    $"silo on {port} to report two active silos");
                using var json = JsonDocument.Parse(health.Body);
                Assert.Equal("postgres", json.RootElement.GetProperty("checks").GetProperty("storage").GetProperty("data").GetProperty("mode").GetString());
                Assert.DoesNotContain(database.ConnectionString, health.Body);
            }

            // The schema was applied once, by whichever silo came first, and recorded.
            Assert.Equal((long)Grinder.Silo.Storage.PostgresMigrationScript.Embedded.Count, await database.ScalarAsync<long>("SELECT count(*) FROM grinder_schema_migrations"));
        }
        finally
        {
            foreach (var silo in silos)
            {
                await silo.DisposeAsync();
            }
        }
    }

    private static int ActiveSilos(string healthz)
    {
        using var json = JsonDocument.Parse(healthz);
        return json.RootElement.GetProperty("checks").GetProperty("cluster").TryGetProperty("data", out var data) && data.TryGetProperty("active_silos", out var active)
            ? active.GetInt32()
            : 0;
    }
}
