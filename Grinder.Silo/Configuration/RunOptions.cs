namespace Grinder.Silo.Configuration;

/// <summary>Per-run switches (section <c>Grinder:Run</c>; command line <c>--metrics-out PATH</c> and <c>--duration SECONDS</c>).</summary>
public sealed class RunOptions
{
    public const string SectionName = "Grinder:Run";

    /// <summary>Where to write the <c>/metrics</c> text when the silo stops.</summary>
    public string? MetricsOut { get; set; }

    /// <summary>Stop gracefully after this long (smoke runs).</summary>
    public TimeSpan? Duration { get; set; }

    public static IEnumerable<string> Validate(RunOptions options)
    {
        if (options.Duration is { } duration && duration <= TimeSpan.Zero)
        {
            yield return "--duration must be a positive number of seconds";
        }
    }
}
