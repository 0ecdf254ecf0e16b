using System.Text;
using System.Text.Json;
using Grinder.Grains.Binance;
using Grinder.Grains.Ingest;
using Grinder.Grains.Ledger;
using Grinder.Silo.Ledger;

namespace Grinder.Silo.Http;

/// <summary>
/// <c>GET /fills</c> and <c>GET /fills/summary</c>: the fill ledger over HTTP (behind
/// <see cref="Hosting.AccessGuardMiddleware"/>, like <c>/admin</c>). Rows carry Binance's <c>userTrades</c> field names,
/// amounts as strings (exact, as Binance sends them), times as epoch milliseconds like Binance's <c>time</c>.
/// </summary>
public static class FillEndpoints
{
    private const string JsonContentType = "application/json; charset=utf-8";

    // Bytes a JSON page holds before it is written out: the response never buffers a whole page.
    private const int JsonFlushBytes = 32 * 1024;

    public static IEndpointRouteBuilder MapGrinderFills(this IEndpointRouteBuilder endpoints)
    {
        endpoints.MapGet("/fills", ListAsync);
        endpoints.MapGet("/fills/summary", SummaryAsync);
        return endpoints;
    }

    private static async Task ListAsync(HttpContext context, IFillLedger ledger, IAccountDirectory accounts)
    {
        var (request, status, error) = FillRequest.ParseList(context.Request, accounts);
        if (request is null)
        {
            await RefuseAsync(context, status, error!);
            return;
        }

        if (request.Csv)
        {
            await WriteCsvAsync(context, ledger, request);
        }
        else
        {
            await WriteJsonPageAsync(context, ledger, request);
        }
    }

    private static async Task WriteCsvAsync(HttpContext context, IFillLedger ledger, FillRequest request)
    {
        context.Response.ContentType = FillCsv.ContentType;
        var cancellationToken = context.RequestAborted;
        // Write as the rows are read: memory stays at one row plus the writer's buffer, whatever the row count.
        await using var writer = new StreamWriter(context.Response.Body, new UTF8Encoding(false), bufferSize: 64 * 1024);
        await writer.WriteAsync(FillCsv.Header + "\r\n");
        var line = new StringBuilder(256);
        await foreach (var row in ledger.QueryAsync(request.ToQuery(request.Limit), cancellationToken))
        {
            line.Clear();
            FillCsv.AppendRow(line, row);
            await writer.WriteAsync(line, cancellationToken);
        }

        await writer.FlushAsync(cancellationToken);
    }

    private static async Task WriteJsonPageAsync(HttpContext context, IFillLedger ledger, FillRequest request)
    {
        context.Response.ContentType = JsonContentType;
        var limit = request.Limit!.Value;
        var cancellationToken = context.RequestAborted;
        await using var json = new Utf8JsonWriter(context.Response.Body);
        json.WriteStartObject();
        json.WriteStartArray("fills");
        var written = 0;
        LedgerRow? last = null;
        var more = false;
        // One row beyond the page tells whether a next page exists, without a count query.
        await foreach (var row in ledger.QueryAsync(request.ToQuery(limit + 1), cancellationToken))
        {
            if (written == limit)
            {
                more = true;
                break;
            }

            WriteRow(json, row);
            last = row;
            written++;
            if (json.BytesPending > JsonFlushBytes)
            {
                await json.FlushAsync(cancellationToken);
            }
        }

        json.WriteEndArray();
        if (more)
        {
            json.WriteString("next", FillPageToken.Encode(last!.PageKey));
        }
        else
        {
            json.WriteNull("next");
        }

        json.WriteEndObject();
        await json.FlushAsync(cancellationToken);
    }

    private static void WriteRow(Utf8JsonWriter json, LedgerRow row)
    {
        var trade = row.Trade;
        json.WriteStartObject();
        json.WriteNumber("id", trade.Id);
        json.WriteNumber("orderId", trade.OrderId);
        json.WriteString("symbol", trade.Symbol);
        json.WriteString("side", LedgerCodes.Side(trade.Side));
        json.WriteString("price", FillCsv.Amount(trade.Price));
        json.WriteString("qty", FillCsv.Amount(trade.Qty));
        json.WriteString("quoteQty", FillCsv.Amount(trade.QuoteQty));
        json.WriteString("realizedPnl", FillCsv.Amount(trade.RealizedPnl));
        json.WriteString("commission", FillCsv.Amount(trade.Commission));
        json.WriteString("commissionAsset", trade.CommissionAsset);
        json.WriteNumber("time", trade.TimeMs);
        json.WriteBoolean("buyer", trade.Side == FillSide.Buy);
        json.WriteBoolean("maker", trade.Liquidity == FillLiquidity.Maker);
        json.WriteString("positionSide", trade.PositionSide);
        json.WriteString("account", row.Account);
        json.WriteString("source", row.Source);
        json.WriteNumber("firstSeen", row.FirstSeenMs);
        json.WriteString("firstSeenBy", LedgerCodes.Feeder(row.FirstSeenBy));
        json.WriteBoolean("preLedger", row.PreLedger);
        json.WriteEndObject();
    }

    private static async Task SummaryAsync(HttpContext context, IFillLedger ledger, IAccountDirectory accounts)
    {
        var (request, status, error) = FillRequest.ParseSummary(context.Request, accounts);
        if (request is null)
        {
            await RefuseAsync(context, status, error!);
            return;
        }

        var summary = await ledger.SummarizeAsync(request.Account.Id, request.FromMs, request.ToMs, context.RequestAborted);
        context.Response.ContentType = JsonContentType;
        await using var json = new Utf8JsonWriter(context.Response.Body);
        json.WriteStartObject();
        json.WriteString("account", request.Account.Id);
        WriteOptionalNumber(json, "from", request.FromMs);
        WriteOptionalNumber(json, "to", request.ToMs);
        json.WriteStartArray("symbols");
        foreach (var symbol in summary)
        {
            json.WriteStartObject();
            json.WriteString("symbol", symbol.Symbol);
            json.WriteNumber("fills", symbol.Fills);
            json.WriteString("buyQty", FillCsv.Amount(symbol.BuyQty));
            json.WriteString("sellQty", FillCsv.Amount(symbol.SellQty));
            json.WriteString("buyNotional", FillCsv.Amount(symbol.BuyNotional));
            json.WriteString("sellNotional", FillCsv.Amount(symbol.SellNotional));
            json.WriteString("realizedPnl", FillCsv.Amount(symbol.RealizedPnl));
            json.WriteStartObject("commission");
            foreach (var (asset, amounts) in symbol.ByAsset.OrderBy(pair => pair.Key, StringComparer.Ordinal))
            {
                json.WriteStartObject(asset);
                json.WriteString("fees", FillCsv.Amount(amounts.Fees));
                json.WriteString("rebates", FillCsv.Amount(amounts.Rebates));
                json.WriteEndObject();
            }

            json.WriteEndObject();
            json.WriteEndObject();
        }

        json.WriteEndArray();
        json.WriteEndObject();
        await json.FlushAsync(context.RequestAborted);
    }

    private static void WriteOptionalNumber(Utf8JsonWriter json, string name, long? value)
    {
        if (value is { } number)
        {
            json.WriteNumber(name, number);
        }
        else
        {
            json.WriteNull(name);
        }
    }

    private static async Task RefuseAsync(HttpContext context, int status, string error)
    {
        context.Response.StatusCode = status;
        context.Response.ContentType = "text/plain; charset=utf-8";
        await context.Response.WriteAsync(error + "\n", context.RequestAborted);
    }
}
