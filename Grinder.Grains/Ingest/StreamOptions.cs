namespace Grinder.Grains.Ingest;

/// <summary>The user data stream as a feeder, and REST as its reconciliation (section <c>Grinder:Stream</c>).</summary>
public sealed class StreamOptions
{
    public const string SectionName = "Grinder:Stream";

    /// <summary>Push fills through each account's user data stream; off gives REST polling only, at <c>PollInterval</c>.</summary>
    public bool Enabled { get; set; } = true;

    /// <summary>While an account's stream is healthy, each of its symbols is read by REST at most this often (more rarely when the
    /// silo's weight budget cannot carry that many pairs).</summary>
    public TimeSpan ReconcileInterval { get; set; } = TimeSpan.FromMinutes(1);

    /// <summary>Part of the silo's weight budget reconciliation may use; the rest stays for accounts whose stream is down.</summary>
    public double ReconcileShare { get; set; } = 0.5;

    /// <summary>Part of the silo's weight budget the trailing re-scan may fill while streams are healthy (backfill and re-scan come
    /// before reconciliation, accounts without a stream before both).</summary>
    public double RescanShare { get; set; } = 0.75;

    public static IEnumerable<string> Validate(StreamOptions options)
    {
        if (options.ReconcileInterval <= TimeSpan.Zero)
        {
            yield return "Grinder:Stream:ReconcileInterval must be a positive TimeSpan (e.g. 00:01:00)";
        }

        if (options.ReconcileShare is <= 0 or > 1 || double.IsNaN(options.ReconcileShare))
        {
            yield return "Grinder:Stream:ReconcileShare must be above 0 and at most 1";
        }

        if (options.RescanShare is <= 0 or > 1 || double.IsNaN(options.RescanShare) || options.RescanShare < options.ReconcileShare)
        {
            yield return "Grinder:Stream:RescanShare must be at most 1 and not below Grinder:Stream:ReconcileShare";
        }
    }
}
