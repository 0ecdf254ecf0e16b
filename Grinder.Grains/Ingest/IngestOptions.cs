namespace Grinder.Grains.Ingest;

/// <summary>Fill ingest settings (section <c>Grinder:Ingest</c>; the switch also comes from <c>FILL_INGEST_ENABLED</c>).</summary>
public sealed class IngestOptions
{
    public const string SectionName = "Grinder:Ingest";

    /// <summary>True only when <c>FILL_INGEST_ENABLED</c> is exactly <c>1</c> (runbook Gate 0/1).</summary>
    public bool Enabled { get; set; }

    /// <summary>Time between two polls of one account (default 5 s).</summary>
    public TimeSpan PollInterval { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>How far back a fresh cursor starts. Binance keeps about six months of trades.</summary>
    public TimeSpan BootstrapLookback { get; set; } = TimeSpan.FromDays(7);

    /// <summary>Deadline for a whole tick: a hung await would stop an Orleans grain timer forever.</summary>
    public TimeSpan TickDeadline { get; set; } = TimeSpan.FromSeconds(60);

    /// <summary>How often each silo's keeper pings every configured account so that a grain lost with a silo is re-activated on a survivor.</summary>
    public TimeSpan KeeperInterval { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>Most rejected rows kept per account for <c>/healthz</c>; older ones are dropped, their count is kept.</summary>
    public int QuarantineLimit { get; set; } = 50;

    /// <summary>How often a symbol whose read position moved recently is read again by time window (the trailing re-scan).</summary>
    public TimeSpan RescanInterval { get; set; } = TimeSpan.FromMinutes(1);

    /// <summary>
    /// How far back the trailing re-scan reads, and how long after its position last moved a symbol keeps being re-scanned.
    /// A trade that becomes visible in <c>userTrades</c> up to <c>RescanWindow - RescanInterval</c> after it executed is found.
    /// </summary>
    public TimeSpan RescanWindow { get; set; } = TimeSpan.FromMinutes(10);

    public static IEnumerable<string> Validate(IngestOptions options)
    {
        if (options.RescanInterval <= TimeSpan.Zero)
        {
            yield return "Grinder:Ingest:RescanInterval must be a positive TimeSpan (e.g. 00:01:00)";
        }

        // One startTime..endTime window spans at most 7 days (Binance docs); a window shorter than the interval would leave gaps.
        if (options.RescanWindow <= TimeSpan.Zero || options.RescanWindow > TimeSpan.FromDays(7))
        {
            yield return "Grinder:Ingest:RescanWindow must be between 00:00:01 and 7.00:00:00 (one Binance time window)";
        }
        else if (options.RescanWindow < options.RescanInterval)
        {
            yield return "Grinder:Ingest:RescanWindow must not be shorter than Grinder:Ingest:RescanInterval (the re-scans would leave gaps)";
        }

        if (options.PollInterval <= TimeSpan.Zero)
        {
            yield return "Grinder:Ingest:PollInterval must be a positive TimeSpan (e.g. 00:00:05)";
        }

        if (options.BootstrapLookback <= TimeSpan.Zero || options.BootstrapLookback > TimeSpan.FromDays(183))
        {
            yield return "Grinder:Ingest:BootstrapLookback must be between 00:00:01 and 183.00:00:00 (Binance keeps about six months)";
        }

        if (options.TickDeadline <= TimeSpan.Zero)
        {
            yield return "Grinder:Ingest:TickDeadline must be a positive TimeSpan";
        }

        if (options.QuarantineLimit is < 1 or > 10_000)
        {
            yield return "Grinder:Ingest:QuarantineLimit must be between 1 and 10000";
        }

        if (options.KeeperInterval <= TimeSpan.Zero)
        {
            yield return "Grinder:Ingest:KeeperInterval must be a positive TimeSpan";
        }
    }
}
