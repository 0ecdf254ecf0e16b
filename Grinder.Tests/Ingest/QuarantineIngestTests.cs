using Grinder.FakeBinance;
using Grinder.Grains;
using Grinder.Tests.Infrastructure;
using static Grinder.Tests.Ingest.IngestExpectations;

namespace Grinder.Tests.Ingest;

/// <summary>Rows that fail validation, as an operator sees them: the parse error counter of <c>/metrics</c> and the quarantine of <c>/healthz</c>.</summary>
[Collection(IngestClusterCollection.Name)]
public sealed class QuarantineIngestTests(IngestClusterFixture fixture)
{
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(60);

    [Fact]
    public async Task Each_rejected_row_raises_the_parse_error_counter_once_and_the_quarantine_keeps_the_newest_up_to_its_limit()
    {
        var account = fixture.TakeAccount();
        var key = IngestClusterFixture.KeyOf(account);
        var grain = fixture.Account(account);
        var limit = fixture.IngestOptions.QuarantineLimit;
        var first = fixture.NewTrades(account, "BTCUSDT", 2, seed: 60);
        await CountedAsync(grain, first.Count);
        var parseBefore = await ParseErrorsAsync();

        // Three rows more than the quarantine holds, each followed by a real trade so the read position passes it, all
        // executed now: the trailing re-scan (every 2 s over the last minute) reads every one of them again and again.
        var nowMs = fixture.Exchange.ServerTime.ToUnixTimeMilliseconds();
        var firstId = first.Max(trade => trade.Id) + 1;
        var rejectedIds = Enumerable.Range(0, limit + 3).Select(i => firstId + (2 * i)).ToList();
        FakeCorruption[] kinds = [FakeCorruption.NaNCommission, FakeCorruption.MissingPrice, FakeCorruption.NegativeQty];
        foreach (var (id, index) in rejectedIds.Select((id, index) => (id, index)))
        {
            fixture.Exchange.AddCorruptRow(key, "BTCUSDT", kinds[index % kinds.Length], id, nowMs);
        }

        var valid = fixture.Exchange.AddTrades(key, [.. rejectedIds.Select((id, index) => IngestClusterFixture.Row("BTCUSDT", id + 1, index % 2 == 0 ? "BUY" : "SELL", nowMs))]);
        await CountedAsync(grain, first.Count + valid.Count);
        await Eventually.ReturnsAsync(grain.GetHealthAsync, health => BtcOf(health).LastTradeId == valid[^1].Id, Wait, "the read position past every rejected row");

        // Two re-scans later (each reads all those rows again), and a report of the account after them.
        for (var rescans = 0; rescans < 2; rescans++)
        {
            var last = BtcOf(await grain.GetHealthAsync()).LastRescanMs ?? 0;
            await Eventually.ReturnsAsync(grain.GetHealthAsync, health => BtcOf(health).LastRescanMs > last, Wait, "another re-scan of BTCUSDT");
        }

        var settled = await PollsAsync(grain, 1);

        // /metrics: grinder_fill_ingest_errors_total{reason="parse"} rose by exactly one per rejected row, as did the account's count.
        var scraped = await Eventually.ReturnsAsync(ParseErrorsAsync, parse => parse >= parseBefore + rejectedIds.Count, Wait, "the parse errors in /metrics");
        Assert.Equal(parseBefore + rejectedIds.Count, scraped);
        Assert.Equal(rejectedIds.Count, settled.Errors.GetValueOrDefault(ErrorReason.Parse));

        // /healthz: the quarantine holds its limit, the newest rows, oldest dropped first.
        var health = await grain.GetHealthAsync();
        Assert.Equal(rejectedIds.Skip(3), health.Quarantine.Select(row => row.TradeId!.Value));
        Assert.Equal(limit, BtcOf(health).QuarantinedRows);
        Assert.All(health.Quarantine, row => Assert.Equal("BTCUSDT", row.Symbol));
        await LedgerEqualsExchangeAsync(fixture.Ledger, account, fixture.Exchange, key);
    }

    private static SymbolHealth BtcOf(AccountHealth health) => health.Symbols.Single(symbol => symbol.Symbol == "BTCUSDT");

    /// <summary>The cluster's <c>grinder_fill_ingest_errors_total{source="reconcile",reason="parse"}</c> as a scrape shows it.</summary>
    private async Task<double> ParseErrorsAsync() =>
        MetricsScrape.Check(await MetricsScrape.RenderClusterAsync(fixture.Grains)).Value("grinder_fill_ingest_errors_total", ("source", "reconcile"), ("reason", "parse")) ?? 0;
}
