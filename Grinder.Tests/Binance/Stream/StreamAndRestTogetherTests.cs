using Grinder.FakeBinance;
using Grinder.Grains.Binance;
using Grinder.Grains.Binance.Stream;
using Grinder.Tests.FakeBinance;
using static Grinder.Tests.Binance.Stream.StreamClientKit;

namespace Grinder.Tests.Binance.Stream;

/// <summary>The two feeders together, as the ledger will use them: the stream is fast but lossy (drops, duplicates, reordering,
/// a disconnect in a burst), REST is complete; keyed by (symbol, id, side) their union is the exchange's trades exactly.</summary>
[Collection(FakeBinanceCollection.Name)]
public sealed class StreamAndRestTogetherTests(FakeExchangeFixture fixture)
{
    [Fact]
    public async Task Stream_fills_plus_a_rest_reconciliation_equal_the_exchanges_trades_exactly()
    {
        using var harness = new ClientHarness(fixture.Exchange.BaseUrl);
        var credentials = fixture.NewCredentials();
        await using var stream = Create(harness, credentials, fixture.Exchange.StreamBaseUrl, FastOptions());
        stream.Start();
        await stream.Events.NextAsync<StreamConnected>();
        await fixture.Exchange.WaitForStreamConnectionsAsync(credentials.ApiKey, 1, Wait);
        fixture.Exchange.SetStreamFaults(new FakeStreamFaults(DropFraction: 0.1, DuplicateFraction: 0.1, ReorderFraction: 0.1, Seed: 8), credentials.ApiKey);

        var seen = new List<UserDataStreamEvent>();
        var trades = new List<FakeTrade>();
        trades.AddRange(fixture.Exchange.GenerateTrades(credentials.ApiKey, "BTCUSDT", 40, seed: 70, selfTradePairFraction: 0.2));
        fixture.Exchange.DisconnectStreamsAfterEvents(credentials.ApiKey, 5);
        trades.AddRange(fixture.Exchange.GenerateTrades(credentials.ApiKey, "ETHUSDT", 20, seed: 71));
        await stream.Events.NextAsync<StreamConnected>(seen);
        await fixture.Exchange.WaitForStreamConnectionsAsync(credentials.ApiKey, 1, Wait);
        trades.AddRange(fixture.Exchange.GenerateTrades(credentials.ApiKey, "ETHUSDT", 20, seed: 72));
        fixture.Exchange.ClearStreamFaults();
        var marker = fixture.Exchange.GenerateTrades(credentials.ApiKey, "BTCUSDT", 1, seed: 73)[0];
        trades.Add(marker);

        // Read the stream up to the marker (sent after everything else on the same connection).
        var streamed = seen.OfType<StreamFill>().Select(f => Key(f.Trade)).ToHashSet();
        while (true)
        {
            var fill = await stream.Events.NextAsync<StreamFill>(seen);
            streamed.Add(Key(fill.Trade));
            if (Key(fill.Trade) == Key(marker))
            {
                break;
            }
        }

        var rest = new HashSet<(string, long, string)>();
        foreach (var symbol in new[] { "BTCUSDT", "ETHUSDT" })
        {
            var result = await harness.FetchAsync(credentials, symbol, new FetchPosition(1_000_000, 0, null, false));
            Assert.Null(result.Error);
            rest.UnionWith(result.Trades.Select(Key));
        }

        var exchange = fixture.Exchange.TradeKeys(credentials.ApiKey).Select(k => (k.Symbol, k.Id, k.Side)).ToHashSet();
        var dropped = fixture.Exchange.DroppedStreamEvents(credentials.ApiKey).Select(k => (k.Symbol, k.Id, k.Side)).ToHashSet();
        Assert.Equal(trades.Select(Key).ToHashSet(), exchange);
        Assert.NotEmpty(dropped);
        Assert.True(exchange.Except(streamed).Count() > dropped.Count, "the disconnect in the burst lost events beyond the dropped ones");
        Assert.Empty(streamed.Except(exchange));
        Assert.Equal(exchange, rest);
        Assert.Equal(exchange, streamed.Union(rest).ToHashSet());
        Assert.Equal(1, stream.Health.Reconnects);
    }
}
