using System.Globalization;

namespace Grinder.Tests.Chaos;

/// <summary>
/// Size and length of one chaos run. The short form runs in CI on every test run; <c>GRINDER_CHAOS_LONG=1</c> selects
/// the long form. Both run the same code.
/// </summary>
/// <param name="Accounts">Accounts configured on the cluster, each with every symbol of <paramref name="Symbols"/>.</param>
/// <param name="ChaosDuration">How long trades keep arriving while silos and PostgreSQL are disrupted.</param>
/// <param name="Disruptions">What happens, in order, spread evenly over <paramref name="ChaosDuration"/>.</param>
/// <param name="TradeEvery">Pause of the trade flow between two batches of new trades.</param>
/// <param name="InvalidRowEvery">Every n-th batch is an invalid row instead (quarantined, never counted).</param>
public sealed record ChaosPlan(
    string Name,
    int Accounts,
    IReadOnlyList<string> Symbols,
    TimeSpan ChaosDuration,
    IReadOnlyList<ChaosDisruption> Disruptions,
    TimeSpan TradeEvery,
    int InvalidRowEvery,
    int Seed)
{
    public const string LongFormVariable = "GRINDER_CHAOS_LONG";

    /// <summary>CI: a minute of chaos with two silo kills (one a real process crash) and one PostgreSQL restart.</summary>
    public static ChaosPlan Short { get; } = new(
        "short",
        Accounts: 20,
        Symbols: ["BTCUSDT", "ETHUSDT", "SOLUSDT"],
        ChaosDuration: TimeSpan.FromSeconds(60),
        Disruptions: [ChaosDisruption.CrashSiloProcess, ChaosDisruption.RestartPostgres, ChaosDisruption.KillSilo],
        TradeEvery: TimeSpan.FromMilliseconds(100),
        InvalidRowEvery: 15,
        Seed: 26);

    /// <summary>On demand: ten minutes, a process crash, seven TestCluster silo kills and three PostgreSQL restarts.</summary>
    public static ChaosPlan Long { get; } = Short with
    {
        Name = "long",
        ChaosDuration = TimeSpan.FromMinutes(10),
        Disruptions =
        [
            ChaosDisruption.CrashSiloProcess, ChaosDisruption.KillSilo, ChaosDisruption.RestartPostgres,
            ChaosDisruption.KillSilo, ChaosDisruption.KillSilo, ChaosDisruption.RestartPostgres,
            ChaosDisruption.KillSilo, ChaosDisruption.KillSilo, ChaosDisruption.RestartPostgres,
            ChaosDisruption.KillSilo, ChaosDisruption.KillSilo,
        ],
        InvalidRowEvery = 60,
    };

    public static ChaosPlan Current =>
        Environment.GetEnvironmentVariable(LongFormVariable) == "1" ? Long : Short;

    public override string ToString() => string.Create(
        CultureInfo.InvariantCulture,
        $"{Name}: {Accounts} accounts x {Symbols.Count} symbols, {ChaosDuration.TotalSeconds:0} s of chaos, {string.Join(", ", Disruptions)}");
}

public enum ChaosDisruption
{
    /// <summary>
    /// SIGKILL the silo process that started first and so holds every account and the metrics grain, wait until its
    /// accounts poll on the survivors, start a replacement. Only once per run: there is one such process.
    /// </summary>
    CrashSiloProcess,

    /// <summary>Kill a TestCluster silo (<c>KillSiloAsync</c>: no graceful shutdown, but it still marks itself dead), wait until its accounts poll on the survivors, start a replacement.</summary>
    KillSilo,

    /// <summary>Restart the PostgreSQL server that holds membership and grain state.</summary>
    RestartPostgres,
}
