using System.Globalization;
using System.Text.RegularExpressions;
using Grinder.Grains.Ingest;
using Grinder.Silo.Metrics;
using Microsoft.Extensions.Options;

namespace Grinder.Tests.Infrastructure;

/// <summary>One sample of the text exposition: family, labels, value.</summary>
public sealed record MetricSample(string Name, IReadOnlyDictionary<string, string> Labels, double Value)
{
    public string Series => Name + "{" + string.Join(",", Labels.OrderBy(l => l.Key, StringComparer.Ordinal).Select(l => $"{l.Key}=\"{l.Value}\"")) + "}";
}

/// <summary>
/// Parses <c>/metrics</c> and enforces the label contract of the runbook (docs/runbooks/26_FILL_TRACKER_TRIAGE.md) on every scrape a test takes: only the allowed
/// label names and values, none of the runbook's forbidden labels, no account id and no secret anywhere.
/// </summary>
public static partial class MetricsScrape
{
    private static readonly Dictionary<string, string[]> AllowedValues = new(StringComparer.Ordinal)
    {
        ["source"] = ["reconcile", "sim", "manual", "none"],
        ["side"] = ["buy", "sell", "none"],
        ["liquidity"] = ["maker", "taker", "none"],
        ["reason"] = ["http", "parse", "cursor", "unknown", "none"],
        // Cursor loads and saves, and user data stream events (grinder_fill_stream_events_total).
        ["result"] = ["ok", "error", "rejected_non_monotonic", "recorded", "duplicate", "rejected", "mismatch", "none"],
    };

    private static readonly string[] Forbidden = ["symbol=", "order_id=", "client_id=", "trade_id=", "key=", "idempotency_key=", "account="];

    /// <summary>
    /// The <c>/metrics</c> text a silo of the cluster that <paramref name="grains"/> reach would serve if it started now: the
    /// silo's exporter, a new instance, rendering the cluster-wide aggregate.
    /// </summary>
    public static Task<string> RenderClusterAsync(IGrainFactory grains, CancellationToken cancellationToken = default) =>
        new FillMetricsExporter(grains, Options.Create(new IngestOptions { Enabled = true }), TimeProvider.System).RenderAsync(cancellationToken);

    public static async Task<IReadOnlyList<MetricSample>> ScrapeAsync(HttpClient http, IEnumerable<string>? mustNotContain = null)
    {
        var text = await http.GetStringAsync("metrics");
        return Check(text, mustNotContain);
    }

    /// <summary>Parses <paramref name="text"/> and fails the test on any contract violation (<c>MetricsScrapeTests</c> shows each one failing).</summary>
    public static IReadOnlyList<MetricSample> Check(string text, IEnumerable<string>? mustNotContain = null)
    {
        foreach (var secret in mustNotContain ?? [])
        {
            Assert.False(text.Contains(secret, StringComparison.Ordinal), $"/metrics contains a forbidden value ({secret.Length} chars)");
        }

        var samples = Parse(text);
        foreach (var line in text.Split('\n').Where(line => line.StartsWith("grinder_", StringComparison.Ordinal)))
        {
            foreach (var forbidden in Forbidden)
            {
                Assert.False(Regex.IsMatch(line, $"[{{,]{Regex.Escape(forbidden)}"), $"forbidden label {forbidden} in: {line}");
            }
        }

        foreach (var sample in samples.Where(sample => sample.Name.StartsWith("grinder_", StringComparison.Ordinal)))
        {
            foreach (var (label, value) in sample.Labels)
            {
                Assert.True(AllowedValues.TryGetValue(label, out var allowed), $"label {label} is not part of the contract: {sample.Series}");
                Assert.Contains(value, allowed!);
            }
        }

        return samples;
    }

    public static IReadOnlyList<MetricSample> Parse(string text)
    {
        var samples = new List<MetricSample>();
        foreach (var line in text.Split('\n'))
        {
            if (line.Length == 0 || line[0] == '#')
            {
                continue;
            }

            var match = SampleLine().Match(line);
            Assert.True(match.Success, $"unparseable exposition line: {line}");
            var labels = LabelPair().Matches(match.Groups["labels"].Value)
                .ToDictionary(pair => pair.Groups["k"].Value, pair => pair.Groups["v"].Value, StringComparer.Ordinal);
            samples.Add(new MetricSample(match.Groups["name"].Value, labels, double.Parse(match.Groups["value"].Value, CultureInfo.InvariantCulture)));
        }

        return samples;
    }

    /// <summary>The value of one series, or null when absent.</summary>
    public static double? Value(this IReadOnlyList<MetricSample> samples, string name, params (string Label, string Value)[] labels) =>
        samples.FirstOrDefault(sample => sample.Name == name
            && sample.Labels.Count == labels.Length
            && labels.All(l => sample.Labels.TryGetValue(l.Label, out var v) && v == l.Value))?.Value;

    /// <summary>Sum of a family's series whose labels include all of <paramref name="labels"/>.</summary>
    public static double Sum(this IReadOnlyList<MetricSample> samples, string name, params (string Label, string Value)[] labels) =>
        samples.Where(sample => sample.Name == name && labels.All(l => sample.Labels.TryGetValue(l.Label, out var v) && v == l.Value)).Sum(sample => sample.Value);

    [GeneratedRegex(@"^(?<name>[a-zA-Z_:][a-zA-Z0-9_:]*)(\{(?<labels>[^}]*)\})?\s+(?<value>\S+)(\s+\d+)?$")]
    private static partial Regex SampleLine();

    [GeneratedRegex(@"(?<k>[a-zA-Z_][a-zA-Z0-9_]*)=""(?<v>(?:[^""\\]|\\.)*)""")]
    private static partial Regex LabelPair();
}
