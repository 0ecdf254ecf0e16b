using Grinder.FakeBinance;

namespace Grinder.Tests.Ingest;

/// <summary>
/// The ingest cluster with every account's user data stream on (real WebSockets to the fake exchange), REST reconciling
/// every 3 s instead of every minute so a test sees a full reconciliation round quickly.
/// </summary>
public sealed class StreamClusterFixture : IngestClusterFixture
{
    protected override string Prefix => "st-";

    protected override IReadOnlyDictionary<string, string> Settings => new Dictionary<string, string>
    {
        ["Grinder:Stream:Enabled"] = "true",
        ["Grinder:Stream:ReconcileInterval"] = "00:00:03",
        ["Grinder:Stream:Connection:ReconnectBaseDelay"] = "00:00:00.200",
        ["Grinder:Stream:Connection:ReconnectMaxDelay"] = "00:00:02",
    };

    protected override FakeExchangeOptions ExchangeOptions() => new() { WeightLimitPerMinute = 1_000_000, StreamPingInterval = TimeSpan.FromSeconds(5) };
}

/// <summary>Stream tests share one cluster.</summary>
[CollectionDefinition(Name)]
public sealed class StreamClusterCollection : ICollectionFixture<StreamClusterFixture>
{
    public const string Name = "Stream cluster";
}
