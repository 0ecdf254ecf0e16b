using System.Globalization;

namespace Grinder.Silo.Configuration;

/// <summary>
/// Maps the flat names of the README "Configuration" table (the runbook's <c>FILL_INGEST_ENABLED</c>, <c>GRINDER_POSTGRES</c>, the
/// <c>--metrics-out</c>/<c>--duration</c> switches, …) onto the typed option sections, so services only ever bind options.
/// </summary>
public static class ConfigurationAliases
{
    public static IReadOnlyDictionary<string, string?> Resolve(IConfiguration configuration)
    {
        var mapped = new Dictionary<string, string?>(StringComparer.OrdinalIgnoreCase);

        // Runbook: exactly "1" turns ingest on; anything else (unset, "0", "true") is off.
        mapped["Grinder:Ingest:Enabled"] = configuration["FILL_INGEST_ENABLED"] == "1" ? "true" : "false";

        Copy(configuration, mapped, "GRINDER_POSTGRES", "Grinder:Storage:Postgres");
        if (string.IsNullOrWhiteSpace(configuration["GRINDER_POSTGRES"]))
        {
            Copy(configuration, mapped, "ConnectionStrings:Grinder", "Grinder:Storage:Postgres");
        }

        Copy(configuration, mapped, "GRINDER_DATA_DIR", "Grinder:Storage:DataDirectory");
        Copy(configuration, mapped, "GRINDER_ADMIN_TOKEN", "Grinder:Admin:Token");
        Copy(configuration, mapped, "BINANCE_API_KEY", "Grinder:ApiKey");
        Copy(configuration, mapped, "BINANCE_API_SECRET", "Grinder:ApiSecret");
        Copy(configuration, mapped, "metrics-out", "Grinder:Run:MetricsOut");

        if (configuration["duration"] is { Length: > 0 } duration)
        {
            // --duration is in seconds (README "Configuration"); options take a TimeSpan. A malformed value is passed through
            // unchanged so options binding reports it against the setting's name.
            mapped["Grinder:Run:Duration"] = double.TryParse(duration, NumberStyles.Float, CultureInfo.InvariantCulture, out var seconds)
                ? TimeSpan.FromSeconds(seconds).ToString("c", CultureInfo.InvariantCulture)
                : duration;
        }

        return mapped;
    }

    /// <summary>One message per setting under <c>Grinder:Accounts:N</c> that no account option reads (a typo would otherwise be ignored silently).</summary>
    public static IEnumerable<string> UnknownAccountSettings(IConfiguration configuration)
    {
        var known = typeof(Grinder.Grains.Ingest.AccountOptions).GetProperties().Select(property => property.Name).ToHashSet(StringComparer.OrdinalIgnoreCase);
        foreach (var account in configuration.GetSection("Grinder:Accounts").GetChildren())
        {
            foreach (var setting in account.GetChildren().Where(setting => !known.Contains(setting.Key)))
            {
                yield return $"{setting.Path} is not an account setting (known: {string.Join(", ", known.Order())})";
            }
        }
    }

    private static void Copy(IConfiguration configuration, Dictionary<string, string?> mapped, string from, string to)
    {
        if (configuration[from] is { Length: > 0 } value)
        {
            mapped[to] = value;
        }
    }
}
