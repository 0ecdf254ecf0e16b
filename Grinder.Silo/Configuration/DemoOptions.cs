namespace Grinder.Silo.Configuration;

/// <summary>
/// The local-mode demo (section <c>Grinder:Demo</c>): when ingest is on and no account is configured, the silo hosts the
/// fake exchange in-process and ingests its generated fills as account <c>demo</c>, labelled <c>source="sim"</c>.
/// </summary>
public sealed class DemoOptions
{
    public const string SectionName = "Grinder:Demo";

    /// <summary>Set to false to run with no account at all instead of the demo.</summary>
    public bool Enabled { get; set; } = true;

    /// <summary>Symbols the demo account trades.</summary>
    public string Symbols { get; set; } = "BTCUSDT,ETHUSDT";

    /// <summary>How often the fake exchange generates new fills.</summary>
    public TimeSpan GenerateEvery { get; set; } = TimeSpan.FromSeconds(2);

    /// <summary>Trade ids generated per symbol and tick.</summary>
    public int GenerateCount { get; set; } = 2;

    /// <summary>History present at start, so a new user sees a backfill too.</summary>
    public int InitialTrades { get; set; } = 200;
}
