using System.Globalization;
using System.Text;
using System.Text.Json;

namespace Grinder.FakeBinance;

/// <summary>The Binance-shaped side of the fake: weight accounting, read endpoints, refused writes, and the request log.</summary>
internal sealed class ExchangeEndpoints(FakeExchange exchange)
{
    public const string UserTradesPath = "/fapi/v1/userTrades";

    public const string ListenKeyPath = "/fapi/v1/listenKey";

    private const string JsonType = "application/json";

    /// <summary>Request weights of Binance USD-M: userTrades 5; time, ping and exchangeInfo 1.</summary>
    private const int UserTradesWeight = 5;

    private static readonly TimeSpan DefaultFaultDelay = TimeSpan.FromSeconds(30);

    public async Task HandleAsync(HttpContext context, string path)
    {
        var request = context.Request;
        var arrived = exchange.ServerTime;
        var apiKey = request.Headers["X-MBX-APIKEY"].FirstOrDefault();
        var isWrite = IsWriteAttempt(request.Method, path);
        var call = new Call();
        try
        {
            await ServeAsync(context, path, apiKey, isWrite, call).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (context.RequestAborted.IsCancellationRequested || exchange.Stopping.IsCancellationRequested)
        {
            // The client gave up (timeout) or the fake is stopping: nothing more to send.
        }
        finally
        {
            exchange.Log.Add(new FakeRequestRecord(
                arrived,
                request.Method,
                path,
                SignedQuery.Redact(request.QueryString.HasValue ? request.QueryString.Value![1..] : string.Empty),
                apiKey,
                context.Connection.RemoteIpAddress?.ToString() ?? "unknown",
                context.Response.StatusCode,
                call.ErrorCode,
                call.Fault,
                isWrite,
                context.RequestAborted.IsCancellationRequested));
        }
    }

    /// <summary>Order endpoints (any method) and every non-GET request are writes; the fill tracker must never send one. The
    /// exceptions are POST and PUT of the listenKey (start and keep alive the user data stream): they change no order. DELETE of
    /// the listenKey is a write: it would close the stream of every bot sharing the account's key.</summary>
    private static bool IsWriteAttempt(string method, string path) =>
        !(HttpMethods.IsGet(method) || HttpMethods.IsHead(method) || IsListenKeyUpkeep(method, path))
        || path.Contains("order", StringComparison.OrdinalIgnoreCase)
        || path.Contains("countdownCancelAll", StringComparison.OrdinalIgnoreCase);

    private static bool IsListenKeyUpkeep(string method, string path) =>
        path == ListenKeyPath && (HttpMethods.IsPost(method) || HttpMethods.IsPut(method));

    private static async Task WriteJsonAsync(HttpContext context, int status, byte[] body)
    {
        context.Response.StatusCode = status;
        context.Response.ContentType = JsonType;
        context.Response.ContentLength = body.Length;
        await context.Response.Body.WriteAsync(body, context.RequestAborted).ConfigureAwait(false);
    }

    private static Task WriteErrorAsync(HttpContext context, ApiError error, Call call)
    {
        call.ErrorCode = error.Code;
        var body = JsonSerializer.SerializeToUtf8Bytes(new { code = error.Code, msg = error.Message });
        return WriteJsonAsync(context, error.HttpStatus, body);
    }

    private static Task WriteObjectAsync(HttpContext context, object value) =>
        WriteJsonAsync(context, StatusCodes.Status200OK, JsonSerializer.SerializeToUtf8Bytes(value));

    private async Task ServeAsync(HttpContext context, string path, string? apiKey, bool isWrite, Call call)
    {
        var ip = context.Connection.RemoteIpAddress?.ToString() ?? "unknown";
        var weight = !isWrite && path == UserTradesPath ? UserTradesWeight : 1;
        var decision = exchange.Limiter.Admit(ip, weight, exchange.ServerTime);
        context.Response.Headers["X-MBX-USED-WEIGHT-1M"] = decision.UsedWeight.ToString(CultureInfo.InvariantCulture);
        if (decision.Refusal is { } refusal)
        {
            context.Response.Headers.RetryAfter = decision.RetryAfterSeconds.ToString(CultureInfo.InvariantCulture);
            if (refusal.HttpStatus == StatusCodes.Status418ImATeapot)
            {
                Log.Banned(exchange.Logger, ip, decision.RetryAfterSeconds);
            }

            await WriteErrorAsync(context, refusal, call).ConfigureAwait(false);
            return;
        }

        if (isWrite)
        {
            Log.WriteAttempt(exchange.Logger, context.Request.Method, path);
            await WriteErrorAsync(context, ApiError.ReadOnly(), call).ConfigureAwait(false);
            return;
        }

        if (IsListenKeyUpkeep(context.Request.Method, path))
        {
            await ListenKeyAsync(context, apiKey, call).ConfigureAwait(false);
            return;
        }

        switch (path)
        {
            case "/fapi/v1/ping":
                await WriteObjectAsync(context, new { }).ConfigureAwait(false);
                break;
            case "/fapi/v1/time":
                await WriteObjectAsync(context, new { serverTime = exchange.ServerTime.ToUnixTimeMilliseconds() }).ConfigureAwait(false);
                break;
            case "/fapi/v1/exchangeInfo":
                await WriteObjectAsync(context, ExchangeInfo()).ConfigureAwait(false);
                break;
            case UserTradesPath:
                await UserTradesAsync(context, apiKey, call).ConfigureAwait(false);
                break;
            default:
                await WriteErrorAsync(context, ApiError.NotFound(context.Request.Method, path), call).ConfigureAwait(false);
                break;
        }
    }

    private async Task UserTradesAsync(HttpContext context, string? apiKey, Call call)
    {
        var fault = exchange.Faults.Take(apiKey, context.Request.Query["symbol"].FirstOrDefault());
        if (fault is not null)
        {
            call.Fault = fault.Kind;
            Log.FaultInjected(exchange.Logger, fault.Kind, UserTradesPath);
            if (await AnswerFaultAsync(context, fault, call).ConfigureAwait(false))
            {
                return;
            }
        }

        // Key first: an unknown or missing X-MBX-APIKEY is refused before anything else is looked at.
        var secret = apiKey is null ? null : exchange.Book.SecretOf(apiKey);
        if (secret is null)
        {
            await WriteErrorAsync(context, ApiError.InvalidApiKey(), call).ConfigureAwait(false);
            return;
        }

        var raw = context.Request.QueryString.HasValue ? context.Request.QueryString.Value![1..] : string.Empty;
        var serverTimeMs = exchange.ServerTime.ToUnixTimeMilliseconds();
        var error = SignedQuery.TryParse(raw, secret, serverTimeMs, out var query);
        var symbol = string.Empty;
        TradeSelection? selection = null;
        error ??= UserTradesQuery.TryBuild(query, exchange.Book.IsKnownSymbol, exchange.Options.MaxQueryWindow, exchange.Options.MaxRecentWindow, serverTimeMs, out symbol, out selection);
        if (error is not null || selection is null)
        {
            await WriteErrorAsync(context, error!, call).ConfigureAwait(false);
            return;
        }

        var floorMs = exchange.HistoryFloorMs();
        var rows = exchange.Book.Select(apiKey!, symbol, selection, floorMs, serverTimeMs);
        rows = exchange.PageFaults.Shape(apiKey!, symbol, selection, rows, foreign =>
            exchange.Book.IsKnownSymbol(foreign) ? exchange.Book.Select(apiKey!, foreign, selection, floorMs, serverTimeMs, countsAsRequest: false) : []);
        switch (fault?.Kind)
        {
            case FakeFaultKind.TruncatedJson:
                var page = RowJson.Page(rows);
                await WriteJsonAsync(context, StatusCodes.Status200OK, page[..(page.Length / 2)]).ConfigureAwait(false);
                break;
            case FakeFaultKind.NonArrayJson:
                await WriteJsonAsync(context, StatusCodes.Status200OK, RowJson.WrappedInObject(rows)).ConfigureAwait(false);
                break;
            case FakeFaultKind.SchemaDrift:
                await WriteJsonAsync(context, StatusCodes.Status200OK, RowJson.Page(rows, drift: true)).ConfigureAwait(false);
                break;
            case FakeFaultKind.OversizedBody:
                await WriteOversizedAsync(context, RowJson.Page(rows)).ConfigureAwait(false);
                break;
            default:
                await WriteJsonAsync(context, StatusCodes.Status200OK, RowJson.Page(rows)).ConfigureAwait(false);
                break;
        }
    }

    /// <summary>POST (start) and PUT (keep alive) <c>/fapi/v1/listenKey</c>: USER_STREAM security, the API key header only, no
    /// signature. Both answer <c>{"listenKey":"..."}</c>; PUT without an active key (or with a <c>listenKey</c> parameter that is
    /// not the active one) answers 400 -1125.</summary>
    private async Task ListenKeyAsync(HttpContext context, string? apiKey, Call call)
    {
        // A key without the permission gets the same answer as an unknown key (Binance -2015).
        if (apiKey is null || exchange.Book.SecretOf(apiKey) is null || exchange.Stream.RefusalFor(apiKey) == FakeStreamRefusal.ListenKeyForbidden)
        {
            await WriteErrorAsync(context, ApiError.InvalidApiKey(), call).ConfigureAwait(false);
            return;
        }

        var nowMs = exchange.ServerTime.ToUnixTimeMilliseconds();
        var key = HttpMethods.IsPost(context.Request.Method)
            ? exchange.Stream.Keys.Create(apiKey, nowMs)
            : exchange.Stream.Keys.KeepAlive(apiKey, context.Request.Query["listenKey"].FirstOrDefault(), nowMs);
        if (key is null)
        {
            await WriteErrorAsync(context, StreamHub.ListenKeyMissing(), call).ConfigureAwait(false);
            return;
        }

        await WriteObjectAsync(context, new { listenKey = key }).ConfigureAwait(false);
    }

    /// <summary>Answers the faults that replace the response. Returns false for faults that shape a normal answer (delay, payload faults).</summary>
    private async Task<bool> AnswerFaultAsync(HttpContext context, FakeFault fault, Call call)
    {
        switch (fault.Kind)
        {
            case FakeFaultKind.Status:
                await WriteErrorAsync(context, new ApiError(fault.StatusCode, fault.BinanceCode ?? -1000, "An unknown error occured while processing the request."), call).ConfigureAwait(false);
                return true;
            case FakeFaultKind.HtmlErrorPage:
                call.ErrorCode = null;
                context.Response.StatusCode = fault.StatusCode;
                context.Response.ContentType = "text/html; charset=utf-8";
                await context.Response.WriteAsync(
                    $"<html><head><title>{fault.StatusCode} Error</title></head><body><center><h1>{fault.StatusCode} Error</h1></center><hr><center>fake-edge</center></body></html>",
                    context.RequestAborted).ConfigureAwait(false);
                return true;
            case FakeFaultKind.RateLimited429:
                context.Response.Headers.RetryAfter = (fault.RetryAfterSeconds ?? 1).ToString(CultureInfo.InvariantCulture);
                await WriteErrorAsync(context, ApiError.TooManyRequests(exchange.WeightLimitPerMinute) with { Code = fault.BinanceCode ?? -1003 }, call).ConfigureAwait(false);
                return true;
            case FakeFaultKind.Banned418:
                var retryAfter = fault.RetryAfterSeconds ?? 2;
                context.Response.Headers.RetryAfter = retryAfter.ToString(CultureInfo.InvariantCulture);
                await WriteErrorAsync(context, ApiError.Banned(exchange.ServerTime.AddSeconds(retryAfter)) with { Code = fault.BinanceCode ?? -1003 }, call).ConfigureAwait(false);
                return true;
            case FakeFaultKind.ServiceUnavailable503:
                // Binance: a 503 means the execution status is unknown; the request may be retried later.
                await WriteErrorAsync(context, new ApiError(StatusCodes.Status503ServiceUnavailable, fault.BinanceCode ?? -1000, "Unknown error, please check your request or try again later."), call).ConfigureAwait(false);
                return true;
            case FakeFaultKind.Delay:
                using (var linked = CancellationTokenSource.CreateLinkedTokenSource(context.RequestAborted, exchange.Stopping))
                {
                    await Task.Delay(fault.Delay ?? DefaultFaultDelay, exchange.Options.TimeProvider, linked.Token).ConfigureAwait(false);
                }

                return false;
            default:
                return false;
        }
    }

    /// <summary>A valid page padded with JSON whitespace to the configured size, streamed so the fake itself stays small.</summary>
    private async Task WriteOversizedAsync(HttpContext context, byte[] page)
    {
        var total = Math.Max(exchange.Options.OversizedBodyBytes, page.Length);
        context.Response.StatusCode = StatusCodes.Status200OK;
        context.Response.ContentType = JsonType;
        context.Response.ContentLength = total;
        var body = context.Response.Body;
        await body.WriteAsync(page.AsMemory(0, page.Length - 1), context.RequestAborted).ConfigureAwait(false);
        var padding = Encoding.ASCII.GetBytes(new string(' ', 64 * 1024));
        for (var left = total - page.Length; left > 0; left -= padding.Length)
        {
            await body.WriteAsync(padding.AsMemory(0, Math.Min(left, padding.Length)), context.RequestAborted).ConfigureAwait(false);
        }

        await body.WriteAsync("]"u8.ToArray(), context.RequestAborted).ConfigureAwait(false);
    }

    private object ExchangeInfo()
    {
        // Shape of USD-M GET /fapi/v1/exchangeInfo, reduced to what a read-only client may look at.
        return new
        {
            timezone = "UTC",
            serverTime = exchange.ServerTime.ToUnixTimeMilliseconds(),
            futuresType = "U_MARGINED",
            rateLimits = new object[]
            {
                new { rateLimitType = "REQUEST_WEIGHT", interval = "MINUTE", intervalNum = 1, limit = exchange.WeightLimitPerMinute },
                new { rateLimitType = "ORDERS", interval = "MINUTE", intervalNum = 1, limit = 1200 },
                new { rateLimitType = "ORDERS", interval = "SECOND", intervalNum = 10, limit = 300 },
            },
            exchangeFilters = Array.Empty<object>(),
            symbols = exchange.Symbols.Select(symbol =>
            {
                var quote = new[] { "USDT", "USDC", "BUSD" }.FirstOrDefault(q => symbol.EndsWith(q, StringComparison.Ordinal) && symbol.Length > q.Length) ?? "USDT";
                var baseAsset = symbol.EndsWith(quote, StringComparison.Ordinal) ? symbol[..^quote.Length] : symbol;
                return new
                {
                    symbol,
                    pair = symbol,
                    contractType = "PERPETUAL",
                    status = "TRADING",
                    baseAsset,
                    quoteAsset = quote,
                    marginAsset = quote,
                    pricePrecision = 2,
                    quantityPrecision = 3,
                    baseAssetPrecision = 8,
                    quotePrecision = 8,
                };
            }).ToArray(),
        };
    }

    /// <summary>What the log needs to know about one answer.</summary>
    private sealed class Call
    {
        public int? ErrorCode { get; set; }

        public FakeFaultKind? Fault { get; set; }
    }
}
