using System.Globalization;
using Grinder.Grains;

namespace Grinder.Benchmarks;

/// <summary>Silo settings by their public names (README "Configuration"), for the in-process and child-process silos of the harnesses.</summary>
internal static class SiloSettings
{
    /// <summary>
    /// Orleans' own log off (start-up chatter, and the errors a single silo logs on a graceful stop when it finds no
    /// other silo to migrate the metrics grain to); warnings of Grinder's own categories stay on.
    /// </summary>
    public static Dictionary<string, string?> Quiet() => new(StringComparer.OrdinalIgnoreCase)
    {
        ["Logging:LogLevel:Default"] = "Warning",
        ["Logging:LogLevel:Orleans"] = "Critical",
        ["Logging:LogLevel:Orleans.Runtime.Silo"] = "Critical",
        ["Logging:LogLevel:Polly"] = "Critical",
    };

    /// <summary>Ingest on, the given exchange, and a client weight budget far above what a run sends (so the governor never shapes a figure).</summary>
    public static Dictionary<string, string?> Ingest(Uri exchange, TimeSpan pollInterval) => new(Quiet(), StringComparer.OrdinalIgnoreCase)
    {
        ["FILL_INGEST_ENABLED"] = "1",
        ["Grinder:Binance:BaseUrl"] = exchange.ToString(),
        ["Grinder:Binance:WeightLimitPerMinute"] = "1000000000",
        ["Grinder:Ingest:PollInterval"] = pollInterval.ToString("c", CultureInfo.InvariantCulture),
    };

    /// <summary>Adds accounts under <c>Grinder:Accounts:N</c> with the fake exchange's key scheme.</summary>
    public static Dictionary<string, string?> WithAccounts(this Dictionary<string, string?> settings, IReadOnlyList<string> accounts, string symbols)
    {
        for (var index = 0; index < accounts.Count; index++)
        {
            var prefix = "Grinder:Accounts:" + index.ToString(CultureInfo.InvariantCulture);
            settings[prefix + ":Id"] = accounts[index];
            settings[prefix + ":Symbols"] = symbols;
            settings[prefix + ":ApiKey"] = FakeExchangeProcess.KeyOf(accounts[index]);
            settings[prefix + ":ApiSecret"] = FakeExchangeProcess.SecretOf(accounts[index]);
        }

        return settings;
    }

    /// <summary>The same settings as environment variables (<c>:</c> becomes <c>__</c>).</summary>
    public static Dictionary<string, string?> AsEnvironment(this Dictionary<string, string?> settings) =>
        settings.ToDictionary(pair => pair.Key.Replace(":", "__", StringComparison.Ordinal), pair => pair.Value, StringComparer.Ordinal);

    public static IReadOnlyList<string> AccountNames(string prefix, int count) =>
        [.. Enumerable.Range(0, count).Select(i => prefix + i.ToString("00000", CultureInfo.InvariantCulture))];

    /// <summary>Counted fills of a snapshot, all buckets.</summary>
    public static long Fills(this AccountSnapshot snapshot) => snapshot.Fills.Values.Sum(totals => totals.Count);
}
