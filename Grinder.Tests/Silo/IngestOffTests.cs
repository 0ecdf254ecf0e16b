using Grinder.FakeBinance;
using Grinder.Grains;
using Grinder.Tests.Infrastructure;

namespace Grinder.Tests.Silo;

/// <summary>With FILL_INGEST_ENABLED not exactly 1, no request reaches the exchange, even when asked to poll.</summary>
public sealed class IngestOffTests
{
    [Theory]
    [InlineData("0")]
    [InlineData("true")]
    [InlineData("")]
    public async Task Ingest_off_sends_no_request_to_the_exchange(string switchValue)
    {
        await using var exchange = await FakeExchange.StartAsync();
        exchange.AddAccount("off-key", "off-secret");
        exchange.GenerateTrades("off-key", "BTCUSDT", 10, seed: 1);
        using var data = new TempDirectory();
        await using var silo = await InProcessSilo.StartAsync(new Dictionary<string, string?>
        {
            ["FILL_INGEST_ENABLED"] = switchValue,
            ["GRINDER_DATA_DIR"] = data.Path,
            ["BINANCE_API_KEY"] = "off-key",
            ["BINANCE_API_SECRET"] = "off-secret",
            ["Grinder:Binance:BaseUrl"] = exchange.BaseUrl.ToString(),
            ["Grinder:Ingest:PollInterval"] = "00:00:01",
            ["Grinder:Ingest:KeeperInterval"] = "00:00:01",
        });

        // An explicit poll request is the strongest ask there is; with ingest off it must still be a no-op.
        await silo.Grains.GetGrain<IFillIngestGrain>("acct-main").PollNowAsync();
        var health = await silo.Grains.GetGrain<IFillIngestGrain>("acct-main").GetHealthAsync();
        var text = await silo.Http.GetStringAsync("metrics");
        MetricsScrape.Check(text, ["off-secret", "off-key"]);
        var metrics = text.Split('\n');

        // Nor does anything go out later: the account's poll timer, had it been started, and the keeper would have fired
        // by the time the silo's own grain timers have ticked twice at the poll interval.
        await silo.PassPollIntervalAsync();

        Assert.False(health.Polling);
        Assert.Empty(exchange.Requests);
        Assert.Empty(exchange.WriteAttempts);
        Assert.Contains("grinder_fill_ingest_enabled{source=\"reconcile\"} 0", metrics);
    }
}
