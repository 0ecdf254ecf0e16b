using System.Text;
using Grinder.Grains.Binance;

namespace Grinder.Tests.Binance;

public sealed class TradeRowParserTests
{
    private const long Time = 1569514978020;

    private static TradePage Parse(string body) => TradeRowParser.ParsePage(Encoding.UTF8.GetBytes(body), RowCatalogue.Symbol);

    [Fact]
    public void Docs_example_row_becomes_a_trade_with_every_field()
    {
        var page = Parse("[" + RowCatalogue.Row().Replace("{ID}", "698759").Replace("{TIME}", "1569514978020") + "]");

        Assert.Null(page.PageError);
        Assert.Empty(page.Rejected);
        var trade = Assert.Single(page.Trades);
        Assert.Equal(
            new ParsedTrade("BTCUSDT", 698759, 25851813, FillSide.Sell, FillLiquidity.Taker, 7819.01m, 0.002m, 15.63802m,
                -0.91539999m, -0.07819010m, "USDT", 1569514978020, "SHORT"),
            trade);
        Assert.Equal(15.63802m, trade.Notional);
        Assert.Equal(1, page.RowCount);
        Assert.Equal(698759, page.MaxId);
        Assert.Equal(1569514978020, page.MaxIdTimeMs);
    }

    [Theory]
    [MemberData(nameof(RowCatalogue.ValidCases), MemberType = typeof(RowCatalogue))]
    public void Valid_rows_are_counted(RowCase row)
    {
        var page = Parse("[" + row.Render(41, Time) + "]");

        Assert.Null(page.PageError);
        Assert.Empty(page.Rejected);
        Assert.Equal(41, Assert.Single(page.Trades).Id);
    }

    [Theory]
    [MemberData(nameof(RowCatalogue.RejectedCases), MemberType = typeof(RowCatalogue))]
    public void Bad_rows_are_rejected_with_their_reason_and_do_not_stop_the_page(RowCase row)
    {
        // The bad row sits between two good ones: both must survive.
        var body = "[" + RowCatalogue.Row().Replace("{ID}", "10").Replace("{TIME}", "1000")
            + "," + row.Render(11, Time)
            + "," + RowCatalogue.Row().Replace("{ID}", "12").Replace("{TIME}", "2000") + "]";

        var page = Parse(body);

        Assert.Null(page.PageError);
        Assert.Equal(3, page.RowCount);
        Assert.Equal([10L, 12L], page.Trades.Select(t => t.Id));
        var rejected = Assert.Single(page.Rejected);
        Assert.Equal(row.ExpectedReason, rejected.Reason);
        Assert.Equal(RowCatalogue.Symbol, rejected.Symbol);
        Assert.Equal(row.IdReadable ? 11 : null, rejected.TradeId);
        Assert.Equal(row.Render(11, Time), rejected.Raw);
        Assert.Equal(12, page.MaxId);
    }

    private static string Good(long id, long time) => RowCatalogue.Row().Replace("{ID}", id.ToString(System.Globalization.CultureInfo.InvariantCulture)).Replace("{TIME}", time.ToString(System.Globalization.CultureInfo.InvariantCulture));

    private static string Bad(long id, long time) => RowCatalogue.Row(("price", "\"NaN\"")).Replace("{ID}", id.ToString(System.Globalization.CultureInfo.InvariantCulture)).Replace("{TIME}", time.ToString(System.Globalization.CultureInfo.InvariantCulture));

    [Fact]
    public void A_rejected_row_at_the_end_of_the_page_does_not_move_the_read_position()
    {
        var page = Parse("[" + Good(5, 1000) + "," + Bad(6, 2000) + "]");

        Assert.Equal(5, page.MaxId);
        Assert.Equal(1000, page.MaxIdTimeMs);
        Assert.Equal(6, Assert.Single(page.Rejected).TradeId);
        Assert.Equal(2000, page.Rejected[0].TimeMs);
    }

    [Fact]
    public void A_rejected_row_with_a_corrupt_huge_id_never_becomes_the_read_position()
    {
        // In id order a huge id would hide every later trade of the symbol; a later valid row with a lower id exposes it.
        var page = Parse("[" + Good(100, 1000) + "," + Bad(9_000_000_000_000, 1500) + "," + Good(101, 2000) + "]");

        Assert.Equal(101, page.MaxId);
        Assert.Equal(9_000_000_000_000, Assert.Single(page.Rejected).TradeId);
    }

    [Fact]
    public void A_rejected_row_between_valid_rows_is_passed()
    {
        var page = Parse("[" + Good(100, 1000) + "," + Bad(101, 1500) + "]");
        Assert.Equal(100, page.MaxId);

        var confirmed = Parse("[" + Good(100, 1000) + "," + Bad(101, 1500) + "," + Good(102, 2000) + "]");
        Assert.Equal(102, confirmed.MaxId);
    }

    [Fact]
    public void Rows_of_another_symbol_never_move_the_requested_symbols_position()
    {
        var other = RowCatalogue.Row(("symbol", "\"ETHUSDT\"")).Replace("{ID}", "5000").Replace("{TIME}", "3000");
        var page = Parse("[" + Good(10, 1000) + "," + other + "]");

        Assert.Equal(10, page.MaxId);
        Assert.Equal("symbol: not the requested symbol", Assert.Single(page.Rejected).Reason);
    }

    [Fact]
    public void A_page_of_only_rejected_rows_moves_up_to_its_last_confirmed_row()
    {
        // Without any valid row a run of bad rows confirms itself in id order, so a full page of them cannot stall reading;
        // the last row stays unconfirmed and is read again.
        var page = Parse("[" + Bad(20, 1000) + "," + Bad(21, 1100) + "," + Bad(22, 1200) + "]");

        Assert.Equal(21, page.MaxId);
        Assert.Equal(1100, page.MaxIdTimeMs);
        Assert.Equal(3, page.Rejected.Count);
    }

    [Fact]
    public void Every_catalogue_row_in_one_page_gives_one_outcome_per_row()
    {
        var cases = RowCatalogue.Valid.Concat(RowCatalogue.Rejected).ToList();
        var body = "[" + string.Join(",", cases.Select((c, i) => c.Render(100 + i, Time + i))) + "]";

        var page = Parse(body);

        Assert.Null(page.PageError);
        Assert.Equal(cases.Count, page.RowCount);
        Assert.Equal(RowCatalogue.Valid.Count, page.Trades.Count);
        Assert.Equal(RowCatalogue.Rejected.Select(c => c.ExpectedReason), page.Rejected.Select(r => r.Reason));
    }

    [Fact]
    public void Raw_of_a_huge_rejected_row_is_truncated()
    {
        var padding = new string('x', 5000);
        var page = Parse("[" + RowCatalogue.Row(("price", "\"NaN\""), ("note", $"\"{padding}\"")).Replace("{ID}", "1").Replace("{TIME}", "1") + "]");

        var raw = Assert.Single(page.Rejected).Raw;
        Assert.Equal(TradeRowParser.RawMaxChars + 1, raw.Length);
        Assert.EndsWith("…", raw);
    }

    [Fact]
    public void Numbers_parse_the_same_under_a_comma_decimal_culture()
    {
        var previous = Thread.CurrentThread.CurrentCulture;
        Thread.CurrentThread.CurrentCulture = new System.Globalization.CultureInfo("de-DE");
        try
        {
            var page = Parse("[" + RowCatalogue.Row(("price", "\"1234.5\"")).Replace("{ID}", "1").Replace("{TIME}", "1") + "]");
            Assert.Equal(1234.5m, Assert.Single(page.Trades).Price);
        }
        finally
        {
            Thread.CurrentThread.CurrentCulture = previous;
        }
    }

    public static IEnumerable<object[]> BadPayloads =>
    [
        ["empty body", "", "empty response body, expected a JSON array"],
        ["whitespace body", " \r\n ", "empty response body, expected a JSON array"],
        ["JSON null", "null", "response is not a JSON array"],
        ["JSON object", "{\"rows\":[]}", "response is a JSON object, expected a JSON array"],
        ["Binance error in a 200", "{\"code\":-1121,\"msg\":\"Invalid symbol.\"}", "response is a Binance error object, expected a JSON array: code -1121 'Invalid symbol.'"],
        ["HTML error page", "<html><body><h1>502 Bad Gateway</h1></body></html>", "response is HTML/XML, expected a JSON array"],
        ["JSON string", "\"[]\"", "response is not a JSON array"],
        ["JSON number", "42", "response is not a JSON array"],
        ["only an opening bracket", "[", "malformed or truncated JSON"],
        ["truncated inside a row", "[" + RowCatalogue.Row()[..40], "malformed or truncated JSON"],
        ["truncated between rows", "[" + RowCatalogue.Row().Replace("{ID}", "1").Replace("{TIME}", "1") + ",", "malformed or truncated JSON"],
        ["missing closing bracket", "[1,2", "malformed or truncated JSON"],
        ["trailing comma", "[" + RowCatalogue.Row().Replace("{ID}", "1").Replace("{TIME}", "1") + ",]", "malformed or truncated JSON"],
        ["two arrays", "[] []", "malformed or truncated JSON"],
        ["trailing garbage", "[]garbage", "malformed or truncated JSON"],
        ["comment", "[/* rows */]", "malformed or truncated JSON"],
        ["single quotes", "[{'id':1}]", "malformed or truncated JSON"],
        ["nesting beyond the depth limit", "[" + new string('[', 40) + new string(']', 40) + "]", "malformed or truncated JSON"],
    ];

    [Theory]
    [MemberData(nameof(BadPayloads))]
    public void Bodies_that_are_not_a_well_formed_array_fail_the_whole_page(string name, string body, string expectedError)
    {
        var page = Parse(body);

        Assert.True(page.PageError?.StartsWith(expectedError, StringComparison.Ordinal), $"{name}: got '{page.PageError}'");
        Assert.Empty(page.Trades);
        Assert.Empty(page.Rejected);
        Assert.Null(page.MaxId);
    }

    [Fact]
    public void Invalid_utf8_inside_a_field_rejects_only_that_row()
    {
        var row = Encoding.UTF8.GetBytes(RowCatalogue.Row().Replace("{ID}", "1").Replace("{TIME}", "1"));
        var at = Array.IndexOf(row, (byte)'U'); // inside "USDT"
        row[at] = 0xFF;
        var body = new byte[row.Length + 2];
        body[0] = (byte)'[';
        row.CopyTo(body, 1);
        body[^1] = (byte)']';

        var page = TradeRowParser.ParsePage(body, RowCatalogue.Symbol);

        Assert.Null(page.PageError);
        var rejected = Assert.Single(page.Rejected);
        Assert.Equal("commissionAsset: not an asset code", rejected.Reason);
        Assert.Equal(1, rejected.TradeId);
        Assert.Contains("\uFFFDSDT", rejected.Raw);
    }

    [Fact]
    public void Empty_array_and_byte_order_mark_are_fine()
    {
        var page = TradeRowParser.ParsePage([0xEF, 0xBB, 0xBF, (byte)'[', (byte)']'], RowCatalogue.Symbol);

        Assert.Null(page.PageError);
        Assert.Equal(0, page.RowCount);
        Assert.Null(page.MaxId);
    }

    [Theory]
    [InlineData("0.00000001", "0.00000001")]
    [InlineData("-0.5", "-0.5")]
    [InlineData("123456789012345678.1234567890", "123456789012345678.1234567890")]
    [InlineData("0", "0")]
    [InlineData("-0", "0")]
    public void Strict_decimal_accepts_plain_numbers(string text, string expected)
    {
        Assert.Null(StrictDecimal.TryParse(Encoding.ASCII.GetBytes(text), out var value));
        Assert.Equal(decimal.Parse(expected, System.Globalization.CultureInfo.InvariantCulture), value);
    }

    [Theory]
    [InlineData("1.")]
    [InlineData("-")]
    [InlineData("--1")]
    [InlineData("1 ")]
    [InlineData("١٢")] // Arabic-Indic digits: char.IsDigit says yes, Binance never sends them
    public void Strict_decimal_refuses_anything_else(string text)
    {
        Assert.NotNull(StrictDecimal.TryParse(Encoding.UTF8.GetBytes(text), out _));
    }
}
