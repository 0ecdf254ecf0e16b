using System.Diagnostics;
using Grinder.FakeBinance;
using Grinder.Grains.Ledger;
using Grinder.Tests.Infrastructure;
using static Grinder.Tests.Ingest.IngestExpectations;

namespace Grinder.Tests.Ingest;

/// <summary>
/// Streaming accounts on a silo whose REST weight budget cannot carry their reads: 16 accounts x 2 symbols want 32 reads
/// (weight 160) after they connect, and the silo allows itself 10 a minute. Stream fills must not wait for that budget.
/// </summary>
public sealed class StreamBudgetClusterFixture : IngestClusterFixture
{
    protected override string Prefix => "sb-";

    protected override IReadOnlyDictionary<string, string> Settings => new Dictionary<string, string>
    {
        ["Grinder:Stream:Enabled"] = "true",
        // WeightShare 0.5 of 20: a budget of 10, two reads a minute for the whole silo.
        ["Grinder:Binance:WeightLimitPerMinute"] = "20",
    };

    protected override FakeExchangeOptions ExchangeOptions() => new() { WeightLimitPerMinute = 1_000_000, StreamPingInterval = TimeSpan.FromSeconds(5) };
}

[CollectionDefinition(Name)]
public sealed class StreamBudgetClusterCollection : ICollectionFixture<StreamBudgetClusterFixture>
{
    public const string Name = "Stream cluster, exhausted REST budget";
}

[Collection(StreamBudgetClusterCollection.Name)]
public sealed class StreamBudgetTests(StreamBudgetClusterFixture fixture)
{
    [Fact]
    public async Task Stream_fills_are_counted_at_once_while_the_REST_budget_is_exhausted()
    {
        var account = fixture.TakeAccount();
        var grain = fixture.Account(account);
        // A tick that began before the stream connected polls as an account without a stream does, and may wait for weight
        // (up to the next minute); from the first tick begun after the connect on, the account is in the streaming regime.
        await Eventually.ReturnsAsync(
            grain.GetHealthAsync,
            health => health.Stream is { State: "connected", ConnectedSinceMs: { } since } && health.LastPollMs > since,
            TimeSpan.FromSeconds(120),
            $"{account}'s stream to connect and a tick to begin after it");

        // Every account's read of all symbols after its connect is still waiting for budget. Before the fix the tick waited in
        // the weight governor for the next minute, holding the grain's turn, and the stream fills waited behind it.
        var clock = Stopwatch.StartNew();
        var trades = fixture.NewTrades(account, "BTCUSDT", 5, seed: 91);
        await CountedAsync(grain, trades.Count, TimeSpan.FromSeconds(60));
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(15), $"stream fills took {clock.Elapsed.TotalSeconds:0.0} s to be counted (the governor's next minute)");

        var rows = await RowsAsync(fixture.Ledger, account);
        Assert.Equal(trades.Count, rows.Count(row => row.FirstSeenBy == FillFeeder.Stream));
        Assert.Empty(fixture.Exchange.WriteAttempts);
    }
}
