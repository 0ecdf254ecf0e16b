using System.Text;
using Grinder.Grains.Binance;
using Grinder.Grains.Binance.Stream;

namespace Grinder.Tests.Binance.Stream;

/// <summary>ORDER_TRADE_UPDATE becomes the same ParsedTrade a REST row does, with the same validation; other events are
/// ignored, listenKeyExpired is recognised, and nothing is fatal.</summary>
public sealed class OrderTradeUpdateParserTests
{
    private const string Order = """
        "s":"BTCUSDT","c":"x","S":"SELL","o":"LIMIT","f":"GTC","q":"0.002","p":"60000.5","ap":"60000.5","sp":"0","x":"TRADE","X":"FILLED",
        "i":8886774,"l":"0.002","z":"0.002","L":"60000.5","N":"USDT","n":"-0.006","T":1700000000123,"t":1000042,"b":"0","a":"0",
        "m":true,"R":false,"wt":"CONTRACT_PRICE","ot":"LIMIT","ps":"SHORT","cp":false,"rp":"-1.25","pP":false,"si":0,"ss":0
        """;

    private static StreamMessage Parse(string json) => OrderTradeUpdateParser.Parse(Encoding.UTF8.GetBytes(json));

    private static string Event(string order) => """{"e":"ORDER_TRADE_UPDATE","E":1700000000200,"T":1700000000123,"o":{""" + order + "}}";

    [Fact]
    public void A_trade_event_is_a_fill_with_every_amount_as_a_decimal()
    {
        var message = Parse(Event(Order));

        Assert.Equal(StreamMessageKind.Fill, message.Kind);
        Assert.Equal(1700000000200, message.EventTimeMs);
        Assert.Equal(
            new ParsedTrade("BTCUSDT", 1000042, 8886774, FillSide.Sell, FillLiquidity.Maker, 60000.5m, 0.002m, 120.001m, -1.25m, -0.006m, "USDT", 1700000000123, "SHORT"),
            message.Trade);
    }

    [Fact]
    public void Without_n_and_N_the_commission_is_zero_with_no_asset()
    {
        var message = Parse(Event(Order.Replace("\"N\":\"USDT\",\"n\":\"-0.006\",", string.Empty, StringComparison.Ordinal)));

        Assert.Equal(StreamMessageKind.Fill, message.Kind);
        Assert.Equal(0m, message.Trade!.Commission);
        Assert.Equal(string.Empty, message.Trade.CommissionAsset);
    }

    [Fact]
    public void The_combined_stream_wrapper_is_taken_off_and_its_key_never_kept()
    {
        var wrapped = $$"""{"stream":"SECRETLISTENKEY","data":{{Event(Order)}}}""";
        var broken = $$"""{"stream":"SECRETLISTENKEY","data":{{Event(Order.Replace("\"L\":\"60000.5\"", "\"L\":\"NaN\"", StringComparison.Ordinal))}}}""";

        var fill = Parse(wrapped);
        var rejected = Parse(broken);

        Assert.Equal(StreamMessageKind.Fill, fill.Kind);
        Assert.Equal(StreamMessageKind.Rejected, rejected.Kind);
        Assert.DoesNotContain("SECRETLISTENKEY", rejected.Rejected!.Raw, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("\"n\":\"-0.006\"", "\"n\":\"NaN\"", "n:")]
    [InlineData("\"l\":\"0.002\"", "\"l\":\"-0.002\"", "l: must be > 0")]
    [InlineData("\"L\":\"60000.5\"", "\"L\":\"6e4\"", "L:")]
    [InlineData("\"t\":1000042", "\"t\":\"1000042\"", "t:")]
    [InlineData("\"t\":1000042,", "", "t:")]
    [InlineData("\"S\":\"SELL\"", "\"S\":\"sell\"", "S:")]
    [InlineData("\"ps\":\"SHORT\"", "\"ps\":\"HEDGE\"", "ps:")]
    [InlineData("\"m\":true", "\"m\":\"true\"", "m:")]
    [InlineData("\"N\":\"USDT\",", "", "N:")]
    [InlineData("\"rp\":\"-1.25\"", "\"rp\":-1.25", "rp:")]
    public void A_bad_trade_event_is_rejected_with_a_reason_and_its_readable_id(string from, string to, string reason)
    {
        var message = Parse(Event(Order.Replace(from, to, StringComparison.Ordinal)));

        Assert.Equal(StreamMessageKind.Rejected, message.Kind);
        Assert.StartsWith(reason, message.Rejected!.Reason, StringComparison.Ordinal);
        Assert.Equal("BTCUSDT", message.Rejected.Symbol);
        if (!reason.StartsWith('t'))
        {
            Assert.Equal(1000042, message.Rejected.TradeId);
        }
    }

    [Theory]
    [InlineData("NEW")]
    [InlineData("CANCELED")]
    [InlineData("EXPIRED")]
    [InlineData("AMENDMENT")]
    public void Order_updates_without_a_fill_are_ignored(string execution)
    {
        Assert.Equal(StreamMessageKind.Other, Parse(Event(Order.Replace("\"x\":\"TRADE\"", $"\"x\":\"{execution}\"", StringComparison.Ordinal))).Kind);
    }

    [Fact]
    public void Other_events_are_ignored_and_listen_key_expired_is_recognised_with_its_string_event_time()
    {
        var account = Parse("""{"e":"ACCOUNT_UPDATE","E":1,"T":1,"a":{}}""");
        var expired = Parse("""{"e":"listenKeyExpired","E":"1736996475556","listenKey":"abc"}""");

        Assert.Equal(StreamMessageKind.Other, account.Kind);
        Assert.Equal(StreamMessageKind.ListenKeyExpired, expired.Kind);
        Assert.Equal(1736996475556, expired.EventTimeMs);
    }

    [Theory]
    [InlineData("not json")]
    [InlineData("[1,2]")]
    [InlineData("""{"E":1}""")]
    [InlineData("""{"e":5}""")]
    public void Malformed_messages_are_reported_not_thrown(string json)
    {
        var message = Parse(json);

        Assert.Equal(StreamMessageKind.Malformed, message.Kind);
        Assert.NotNull(message.Rejected);
    }
}
