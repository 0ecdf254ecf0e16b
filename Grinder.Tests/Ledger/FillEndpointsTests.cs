using System.Net;
using System.Net.Http.Headers;
using System.Text.Json;
using Grinder.Grains.Binance;
using Grinder.Silo.Configuration;
using Grinder.Silo.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using static Grinder.Tests.Ledger.LedgerTrades;

namespace Grinder.Tests.Ledger;

/// <summary><c>GET /fills</c> and <c>/fills/summary</c> over real HTTP against a local-mode silo whose ledger holds known rows.</summary>
public sealed class FillEndpointsTests(FillApiSiloFixture fixture) : IClassFixture<FillApiSiloFixture>
{
    private HttpClient Http => fixture.Silo.Http;

    [Theory]
    [InlineData(null, 500)]
    [InlineData(97, 97)]
    [InlineData(1000, 1000)]
    public async Task Ledger_api_paging_with_next_returns_every_row_exactly_once_in_order(int? limit, int pageSize)
    {
        var keys = new List<string>();
        var pages = new List<int>();
        string? next = null;
        do
        {
            var url = "fills?account=alpha" + (limit is null ? "" : $"&limit={limit}") + (next is null ? "" : $"&after={next}");
            using var page = JsonDocument.Parse(await GetOkAsync(url));
            var fills = page.RootElement.GetProperty("fills").EnumerateArray().ToList();
            pages.Add(fills.Count);
            keys.AddRange(fills.Select(KeyOf));
            next = page.RootElement.GetProperty("next").GetString();
        }
        while (next is not null && pages.Count < 100);

        Assert.Equal(fixture.Alpha.Select(KeyOf), keys);
        Assert.All(pages.SkipLast(1), count => Assert.Equal(pageSize, count));
        Assert.InRange(pages[^1], 1, pageSize);
    }

    [Fact]
    public async Task Ledger_api_rows_carry_binance_field_names_and_exact_amount_strings()
    {
        using var page = JsonDocument.Parse(await GetOkAsync("fills?account=beta"));

        var fills = page.RootElement.GetProperty("fills").EnumerateArray().ToList();
        Assert.Equal(4, fills.Count);
        Assert.Equal(JsonValueKind.Null, page.RootElement.GetProperty("next").ValueKind);
        var first = fills[0];
        Assert.Equal(
            ["id", "orderId", "symbol", "side", "price", "qty", "quoteQty", "realizedPnl", "commission", "commissionAsset", "time",
             "buyer", "maker", "positionSide", "account", "source", "firstSeen", "firstSeenBy", "preLedger"],
            first.EnumerateObject().Select(property => property.Name));
        Assert.Equal(1, first.GetProperty("id").GetInt64());
        Assert.Equal(555, first.GetProperty("orderId").GetInt64());
        Assert.Equal("BUY", first.GetProperty("side").GetString());
        Assert.Equal("97000.1", first.GetProperty("price").GetString());
        Assert.Equal("0.00000001", first.GetProperty("qty").GetString());
        Assert.Equal("0.000970001", first.GetProperty("quoteQty").GetString());
        Assert.Equal("0.00000001", first.GetProperty("commission").GetString());
        Assert.Equal(T0, first.GetProperty("time").GetInt64());
        Assert.True(first.GetProperty("buyer").GetBoolean());
        Assert.True(first.GetProperty("maker").GetBoolean());
        Assert.Equal("reconcile", first.GetProperty("source").GetString());
        Assert.Equal(T0 + 3_600_000, first.GetProperty("firstSeen").GetInt64());
        Assert.Equal("poll", first.GetProperty("firstSeenBy").GetString());
        Assert.False(first.GetProperty("preLedger").GetBoolean());
        Assert.Equal("-0.00000003", fills[1].GetProperty("commission").GetString());
        Assert.False(fills[1].GetProperty("buyer").GetBoolean());
        Assert.Equal("rescan", fills[3].GetProperty("firstSeenBy").GetString());
        Assert.Equal("SHORT", fills[3].GetProperty("positionSide").GetString());
    }

    [Theory]
    [InlineData("format=csv", null)]
    [InlineData(null, "text/csv")]
    public async Task Ledger_api_csv_export_streams_every_row_with_the_same_values_as_json(string? format, string? accept)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, "fills?account=alpha" + (format is null ? "" : "&" + format));
        if (accept is not null)
        {
            request.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue(accept));
        }

        using var response = await Http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("text/csv", response.Content.Headers.ContentType?.MediaType);
        // Streamed as it is read: chunked, with no length known up front.
        Assert.Null(response.Content.Headers.ContentLength);
        var lines = (await response.Content.ReadAsStringAsync()).Split("\r\n");
        Assert.Equal("", lines[^1]);
        var header = lines[0].Split(',');
        var rows = lines[1..^1].Select(line => line.Split(',')).ToList();

        Assert.Equal(FillApiSiloFixture.AlphaRows, rows.Count);
        Assert.All(rows, row => Assert.Equal(header.Length, row.Length));
        var json = await AllJsonRowsAsync("fills?account=alpha&limit=1000");
        Assert.Equal(json.Count, rows.Count);
        for (var i = 0; i < rows.Count; i++)
        {
            foreach (var (name, column) in header.Select((name, column) => (name, column)))
            {
                var value = json[i].GetProperty(name);
                var expected = value.ValueKind switch
                {
                    JsonValueKind.String => value.GetString(),
                    JsonValueKind.True => "true",
                    JsonValueKind.False => "false",
                    _ => value.GetRawText(),
                };
                Assert.Equal(expected, rows[i][column]);
            }
        }
    }

    [Fact]
    public async Task Ledger_api_csv_honours_filters_and_an_explicit_limit()
    {
        var text = await GetOkAsync("fills?account=alpha&format=csv&symbol=ethusdt&limit=5");

        var lines = text.Split("\r\n", StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal(6, lines.Length);
        Assert.StartsWith("id,orderId,symbol,side,", lines[0]);
        Assert.Equal(
            fixture.Alpha.Where(t => t.Symbol == "ETHUSDT").Take(5).Select(t => t.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)),
            lines[1..].Select(line => line.Split(',')[0]));
    }

    [Fact]
    public async Task Ledger_api_filters_by_symbol_and_time_window()
    {
        var from = DateTimeOffset.FromUnixTimeMilliseconds(T0 + 60_000).ToString("yyyy-MM-ddTHH:mm:ssZ", System.Globalization.CultureInfo.InvariantCulture);
        var to = DateTimeOffset.FromUnixTimeMilliseconds(T0 + 180_000).ToString("yyyy-MM-ddTHH:mm:ssZ", System.Globalization.CultureInfo.InvariantCulture);

        var window = await AllJsonRowsAsync($"fills?account=beta&from={from}&to={to}");
        Assert.Equal([2L, 3], window.Select(row => row.GetProperty("id").GetInt64()));

        var eth = await AllJsonRowsAsync("fills?account=beta&symbol=ETHUSDT");
        Assert.Equal([3L, 4], eth.Select(row => row.GetProperty("id").GetInt64()));
    }

    [Fact]
    public async Task Ledger_api_summary_gives_exact_per_symbol_figures()
    {
        using var summary = JsonDocument.Parse(await GetOkAsync("fills/summary?account=beta"));

        var symbols = summary.RootElement.GetProperty("symbols").EnumerateArray().ToList();
        Assert.Equal("beta", summary.RootElement.GetProperty("account").GetString());
        Assert.Equal(["BTCUSDT", "ETHUSDT"], symbols.Select(s => s.GetProperty("symbol").GetString()));
        var btc = symbols[0];
        Assert.Equal(2, btc.GetProperty("fills").GetInt64());
        Assert.Equal(D("0.00000001"), D(btc.GetProperty("buyQty").GetString()!));
        Assert.Equal(D("0.003"), D(btc.GetProperty("sellQty").GetString()!));
        Assert.Equal(D("0.000970001"), D(btc.GetProperty("buyNotional").GetString()!));
        Assert.Equal(D("291.3"), D(btc.GetProperty("sellNotional").GetString()!));
        Assert.Equal(D("0.30000001"), D(btc.GetProperty("realizedPnl").GetString()!));
        var usdt = btc.GetProperty("commission").GetProperty("USDT");
        Assert.Equal(D("0.00000001"), D(usdt.GetProperty("fees").GetString()!));
        Assert.Equal(D("0.00000003"), D(usdt.GetProperty("rebates").GetString()!));
        var eth = symbols[1];
        Assert.Equal(D("0.5"), D(eth.GetProperty("commission").GetProperty("BNB").GetProperty("fees").GetString()!));
        Assert.Equal(D("0.1"), D(eth.GetProperty("commission").GetProperty("USDT").GetProperty("fees").GetString()!));
        Assert.Equal(D("-1.5"), D(eth.GetProperty("realizedPnl").GetString()!));

        var to = DateTimeOffset.FromUnixTimeMilliseconds(T0 + 60_000).ToString("O", System.Globalization.CultureInfo.InvariantCulture);
        using var early = JsonDocument.Parse(await GetOkAsync($"fills/summary?account=beta&to={Uri.EscapeDataString(to)}"));
        var only = Assert.Single(early.RootElement.GetProperty("symbols").EnumerateArray());
        Assert.Equal(1, only.GetProperty("fills").GetInt64());
        Assert.Equal(T0 + 60_000, early.RootElement.GetProperty("to").GetInt64());
    }

    [Fact]
    public async Task Ledger_api_a_configured_account_without_fills_gets_empty_answers()
    {
        Assert.Equal("""{"fills":[],"next":null}""", await GetOkAsync("fills?account=empty"));
        using var summary = JsonDocument.Parse(await GetOkAsync("fills/summary?account=empty"));
        Assert.Empty(summary.RootElement.GetProperty("symbols").EnumerateArray());
        Assert.Equal(FillCsvHeader + "\r\n", await GetOkAsync("fills?account=empty&format=csv"));
    }

    [Theory]
    [InlineData("fills?account=alpha&limit=0", "limit")]
    [InlineData("fills?account=alpha&limit=1001", "limit")]
    [InlineData("fills?account=alpha&limit=ten", "limit")]
    [InlineData("fills?account=alpha&format=csv&limit=-1", "limit")]
    [InlineData("fills?account=alpha&from=yesterday", "from")]
    [InlineData("fills?account=alpha&to=2026-13-01T00:00:00Z", "to")]
    [InlineData("fills?account=alpha&from=2026-12-02T00:00:00Z&to=2026-12-01T00:00:00Z", "from")]
    [InlineData("fills?account=alpha&after=not-a-token", "after")]
    [InlineData("fills?account=alpha&after=djF8MXwy", "after")]
    [InlineData("fills?account=alpha&format=xml", "format")]
    [InlineData("fills?account=alpha&symbol=BTC-USDT", "symbol")]
    [InlineData("fills?account=alpha&symbols=BTCUSDT", "symbols")]
    [InlineData("fills?account=alpha&limit=5&limit=6", "limit")]
    [InlineData("fills", "account")]
    [InlineData("fills/summary?account=beta&from=2026-12-01T25:00:00Z", "from")]
    [InlineData("fills/summary?account=beta&to=soon", "to")]
    [InlineData("fills/summary?account=beta&limit=5", "limit")]
    public async Task Ledger_api_a_bad_parameter_gets_400_and_one_line_naming_it(string url, string parameter)
    {
        using var response = await Http.GetAsync(url);
        var body = await response.Content.ReadAsStringAsync();

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.StartsWith(parameter + ": ", body);
        Assert.Single(body.TrimEnd('\n').Split('\n'));
    }

    [Theory]
    [InlineData("fills?account=gamma")]
    [InlineData("fills?account=gamma&format=csv")]
    [InlineData("fills/summary?account=gamma")]
    public async Task Ledger_api_an_unknown_account_gets_404(string url)
    {
        using var response = await Http.GetAsync(url);

        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
        Assert.StartsWith("account: unknown account 'gamma'", await response.Content.ReadAsStringAsync());
    }

    [Theory]
    [InlineData("/fills", null, null, 403)]
    [InlineData("/fills/summary", null, null, 403)]
    [InlineData("/fills", "s3cret-token", null, 401)]
    [InlineData("/fills", "s3cret-token", "Bearer wrong", 401)]
    [InlineData("/fills", "s3cret-token", "Bearer s3cret-token", 200)]
    [InlineData("/fills/summary", "s3cret-token", "Bearer s3cret-token", 200)]
    public async Task Ledger_api_is_refused_off_loopback_without_the_admin_token(string path, string? token, string? authorization, int expected)
    {
        // A remote client as AccessGuardTests simulate one: the guard sees the connection's remote address.
        var reached = false;
        var guard = new AccessGuardMiddleware(
            context =>
            {
                reached = true;
                context.Response.StatusCode = 200;
                return Task.CompletedTask;
            },
            Options.Create(new AdminOptions { Token = token }),
            NullLogger<AccessGuardMiddleware>.Instance);
        var context = new DefaultHttpContext();
        context.Request.Path = path;
        context.Request.QueryString = new QueryString("?account=alpha");
        context.Connection.RemoteIpAddress = IPAddress.Parse("10.1.2.3");
        context.Response.Body = new MemoryStream();
        if (authorization is not null)
        {
            context.Request.Headers.Authorization = authorization;
        }

        await guard.InvokeAsync(context);

        Assert.Equal(expected, context.Response.StatusCode);
        Assert.Equal(expected == 200, reached);
    }

    private const string FillCsvHeader =
        "id,orderId,symbol,side,price,qty,quoteQty,realizedPnl,commission,commissionAsset,time,buyer,maker,positionSide,account,source,firstSeen,firstSeenBy,preLedger";

    private static string KeyOf(ParsedTrade trade) => $"{trade.Symbol}/{trade.Id}/{(trade.Side == FillSide.Buy ? "BUY" : "SELL")}";

    private static string KeyOf(JsonElement row) =>
        $"{row.GetProperty("symbol").GetString()}/{row.GetProperty("id").GetInt64()}/{row.GetProperty("side").GetString()}";

    private async Task<string> GetOkAsync(string url)
    {
        using var response = await Http.GetAsync(url);
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.OK, $"GET {url}: {(int)response.StatusCode} {body}");
        return body;
    }

    private async Task<List<JsonElement>> AllJsonRowsAsync(string url)
    {
        var rows = new List<JsonElement>();
        string? next = null;
        do
        {
            using var page = JsonDocument.Parse(await GetOkAsync(url + (next is null ? "" : $"&after={next}")));
            rows.AddRange(page.RootElement.GetProperty("fills").EnumerateArray().Select(row => row.Clone()));
            next = page.RootElement.GetProperty("next").GetString();
        }
        while (next is not null);

        return rows;
    }
}
