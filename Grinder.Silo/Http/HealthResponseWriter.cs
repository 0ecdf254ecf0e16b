using System.Text.Json;
using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace Grinder.Silo.Http;

/// <summary>Writes the <c>/healthz</c> JSON: overall status, the failing checks by name, and each check's data.</summary>
public static class HealthResponseWriter
{
    private static readonly JsonSerializerOptions Json = new() { WriteIndented = true };

    public static Task WriteAsync(HttpContext context, HealthReport report)
    {
        var body = new Dictionary<string, object?>
        {
            ["status"] = report.Status.ToString(),
            ["failing"] = report.Entries.Where(entry => entry.Value.Status == HealthStatus.Unhealthy).Select(entry => entry.Key).ToArray(),
            ["checks"] = report.Entries.ToDictionary(
                entry => entry.Key,
                entry => (object?)new Dictionary<string, object?>
                {
                    ["status"] = entry.Value.Status.ToString(),
                    ["description"] = entry.Value.Description,
                    ["duration_ms"] = Math.Round(entry.Value.Duration.TotalMilliseconds, 1),
                    ["data"] = entry.Value.Data,
                }),
        };
        context.Response.ContentType = "application/json; charset=utf-8";
        return context.Response.WriteAsync(JsonSerializer.Serialize(body, Json));
    }
}
