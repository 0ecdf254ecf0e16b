using System.Globalization;

namespace Grinder.Tests.Infrastructure;

/// <summary>
/// The monotonic check of counter series over successive samples (scrapes of <c>/metrics</c>, the metrics aggregate, stored
/// counters). Three things are violations: a value below the highest seen before in its series, a series seen before that
/// a later sample lacks, and a sample that could not be taken. Prometheus reads the first two as a counter reset (and
/// <c>increase()</c> counts everything again); the third is a gap in which a decrease could have come and gone unseen.
/// </summary>
/// <param name="where">Names the samples in each violation, e.g. <c>/metrics of silo a</c>.</param>
/// <param name="mayVanish">Series allowed to go missing, e.g. the all-<c>none</c> placeholder of a family that has no real series yet.</param>
public sealed class MonotonicCounters(string where, Func<string, bool>? mayVanish = null)
{
    private readonly Dictionary<string, decimal> _highest = new(StringComparer.Ordinal);
    private readonly List<string> _violations = [];
    private readonly Lock _gate = new();
    private int _samples;

    /// <summary>Every violation so far, as "time where series: before -> after" or "time where: no sample (why)".</summary>
    public IReadOnlyList<string> Violations
    {
        get
        {
            lock (_gate)
            {
                return [.. _violations];
            }
        }
    }

    /// <summary>Every series seen so far.</summary>
    public IReadOnlyCollection<string> Series
    {
        get
        {
            lock (_gate)
            {
                return [.. _highest.Keys];
            }
        }
    }

    /// <summary>Samples observed (failed ones not included).</summary>
    public int Samples => Volatile.Read(ref _samples);

    public void Observe(IReadOnlyDictionary<string, decimal> sample)
    {
        ArgumentNullException.ThrowIfNull(sample);
        var at = Now();
        lock (_gate)
        {
            foreach (var (series, before) in _highest)
            {
                if (!sample.TryGetValue(series, out var now))
                {
                    if (mayVanish?.Invoke(series) != true)
                    {
                        _violations.Add($"{at} {where} {series}: {before} -> gone");
                    }
                }
                else if (now < before)
                {
                    _violations.Add($"{at} {where} {series}: {before} -> {now}");
                }
            }

            foreach (var (series, value) in sample)
            {
                _highest[series] = _highest.TryGetValue(series, out var before) ? Math.Max(before, value) : value;
            }

            _samples++;
        }
    }

    /// <summary>A sample that could not be taken (a failed scrape): a violation.</summary>
    public void Failed(string why)
    {
        var at = Now();
        lock (_gate)
        {
            _violations.Add($"{at} {where}: no sample ({why})");
        }
    }

    /// <summary>The counter series of parsed <c>/metrics</c> samples: every sample of a <c>_total</c> family, by its series.</summary>
    public static Dictionary<string, decimal> Counters(IEnumerable<MetricSample> scrape) =>
        scrape.Where(sample => sample.Name.EndsWith("_total", StringComparison.Ordinal))
            .ToDictionary(sample => sample.Series, sample => (decimal)sample.Value, StringComparer.Ordinal);

    /// <summary>Whether <paramref name="series"/> (as <see cref="MetricSample.Series"/> writes it) has labels and every one is <c>none</c>: a placeholder.</summary>
    public static bool IsPlaceholder(string series)
    {
        var open = series.IndexOf('{', StringComparison.Ordinal);
        var labels = open < 0 ? string.Empty : series[(open + 1)..].TrimEnd('}');
        return labels.Length > 0 && labels.Split(',').All(label => label.EndsWith("=\"none\"", StringComparison.Ordinal));
    }

    private static string Now() => DateTimeOffset.UtcNow.ToString("HH:mm:ss.fff", CultureInfo.InvariantCulture);
}
