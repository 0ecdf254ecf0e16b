using System.Text.Json;
using System.Text.Json.Serialization;

namespace Grinder.FakeBinance;

/// <summary>JSON control API under <c>/_fake/</c> for scripts: the HTTP mirror of the in-process API. Unauthenticated on purpose:
/// it exists only in the fake. Its calls are not exchange traffic: no weight, not in the request log.</summary>
/// <remarks>
/// <list type="bullet">
/// <item><c>GET /_fake/status</c></item>
/// <item><c>POST /_fake/accounts</c> <c>{"apiKey","apiSecret"}</c></item>
/// <item><c>POST /_fake/trades</c> <c>{"apiKey","trades":[FakeTrade...],"visibility":{"delayMs","atMs","requests","untilRevealed"}}</c> (visibility optional);
/// <c>GET /_fake/trades?apiKey=&amp;symbol=</c></item>
/// <item><c>POST /_fake/trades/hide</c> <c>{"apiKey","symbol","fromId","toId","visibility":{...}}</c>, <c>POST /_fake/trades/reveal</c> <c>{"apiKey"}</c></item>
/// <item><c>GET /_fake/trade-keys?apiKey=</c>: <c>[{"symbol","id","side"}]</c>, the account's trades</item>
/// <item><c>POST /_fake/rest-lag</c> <c>{"apiKey","lagMs"}</c></item>
/// <item><c>POST /_fake/corrupt-rows</c> <c>{"apiKey","symbol","corruption","id","timeMs"}</c> (all but apiKey and symbol optional)</item>
/// <item><c>POST /_fake/page-faults</c> (a <see cref="FakePageFault"/>, kind as a name), <c>POST /_fake/page-faults/clear</c></item>
/// <item><c>POST /_fake/trades/generate</c> <c>{"apiKey","symbol","count","seed","selfTradePairFraction","startTimeMs"}</c></item>
/// <item><c>POST /_fake/raw-rows</c> <c>{"apiKey","symbol","id","timeMs","row"}</c> (row: a JSON string served verbatim, or any JSON value)</item>
/// <item><c>GET /_fake/valid-trade-count?apiKey=</c></item>
/// <item><c>GET /_fake/streams</c> (open connections), <c>GET /_fake/listen-key?apiKey=</c>, <c>POST /_fake/listen-key/expire</c> <c>{"apiKey","announce"}</c></item>
/// <item><c>POST /_fake/stream-faults</c> <c>{"apiKey","dropFraction","duplicateFraction","reorderFraction","alterFraction","seed"}</c> (apiKey null: all accounts),
/// <c>POST /_fake/stream-faults/clear</c>, <c>GET /_fake/stream-dropped?apiKey=</c>, <c>GET /_fake/stream-altered?apiKey=</c></item>
/// <item><c>POST /_fake/stream-refusal</c> <c>{"apiKey","refusal"}</c> (a <see cref="FakeStreamRefusal"/> name; apiKey null: all accounts)</item>
/// <item><c>POST /_fake/streams/disconnect</c> <c>{"apiKey","connectionId","afterEvents","abort"}</c> (all optional; none: every connection now)</item>
/// <item><c>POST /_fake/faults</c> (a <see cref="FakeFault"/>, kind as a name)</item>
/// <item><c>GET /_fake/requests</c>, <c>POST /_fake/requests/reset</c>, <c>GET /_fake/write-attempts</c></item>
/// <item><c>POST /_fake/settings</c> <c>{"clockSkewMs","weightLimitPerMinute"}</c></item>
/// </list>
/// </remarks>
internal sealed class ControlApi(FakeExchange exchange)
{
    private const string Prefix = "/_fake/";

    private static readonly JsonSerializerOptions Json = CreateJsonOptions();

    public static JsonSerializerOptions JsonOptions => Json;

    public static bool Handles(string path) => path.StartsWith(Prefix, StringComparison.Ordinal);

    public async Task HandleAsync(HttpContext context)
    {
        var request = context.Request;
        var route = (request.Method, request.Path.Value![Prefix.Length..].TrimEnd('/'));
        try
        {
            object? result = route switch
            {
                ("GET", "status") => Status(),
                ("POST", "accounts") => AddAccount(await ReadAsync<AccountBody>(context).ConfigureAwait(false)),
                ("POST", "trades") => AddTrades(await ReadAsync<TradesBody>(context).ConfigureAwait(false)),
                ("GET", "trades") => exchange.Trades(Required(request.Query["apiKey"]), Required(request.Query["symbol"])),
                ("POST", "trades/generate") => Generate(await ReadAsync<GenerateBody>(context).ConfigureAwait(false)),
                ("POST", "trades/hide") => Hide(await ReadAsync<HideBody>(context).ConfigureAwait(false)),
                ("POST", "trades/reveal") => Reveal(await ReadAsync<AccountBody>(context).ConfigureAwait(false)),
                ("GET", "trade-keys") => TradeKeys(Required(request.Query["apiKey"])),
                ("POST", "rest-lag") => RestLag(await ReadAsync<RestLagBody>(context).ConfigureAwait(false)),
                ("POST", "corrupt-rows") => AddCorruptRow(await ReadAsync<CorruptRowBody>(context).ConfigureAwait(false)),
                ("POST", "page-faults") => AddPageFault(await ReadAsync<FakePageFault>(context).ConfigureAwait(false)),
                ("POST", "page-faults/clear") => new { cleared = exchange.ClearPageFaults() },
                ("POST", "raw-rows") => AddRawRow(await ReadAsync<RawRowBody>(context).ConfigureAwait(false)),
                ("GET", "valid-trade-count") => ValidCount(Required(request.Query["apiKey"])),
                ("GET", "streams") => exchange.StreamConnections,
                ("GET", "listen-key") => new { listenKey = exchange.ActiveListenKey(Required(request.Query["apiKey"])) },
                ("POST", "listen-key/expire") => ExpireListenKey(await ReadAsync<ExpireBody>(context).ConfigureAwait(false)),
                ("POST", "stream-faults") => SetStreamFaults(await ReadAsync<StreamFaultsBody>(context).ConfigureAwait(false)),
                ("POST", "stream-faults/clear") => ClearStreamFaults(),
                ("POST", "stream-refusal") => RefuseStreams(await ReadAsync<RefusalBody>(context).ConfigureAwait(false)),
                ("GET", "stream-altered") => exchange.AlteredStreamEvents(Required(request.Query["apiKey"])).Select(k => new { symbol = k.Symbol, id = k.Id, side = k.Side }).ToArray(),
                ("GET", "stream-dropped") => exchange.DroppedStreamEvents(Required(request.Query["apiKey"])).Select(k => new { symbol = k.Symbol, id = k.Id, side = k.Side }).ToArray(),
                ("POST", "streams/disconnect") => Disconnect(await ReadAsync<DisconnectBody>(context).ConfigureAwait(false)),
                ("POST", "faults") => EnqueueFault(await ReadAsync<FakeFault>(context).ConfigureAwait(false)),
                ("GET", "requests") => exchange.Requests,
                ("POST", "requests/reset") => Reset(),
                ("GET", "write-attempts") => exchange.WriteAttempts,
                ("POST", "settings") => ApplySettings(await ReadAsync<SettingsBody>(context).ConfigureAwait(false)),
                _ => throw new RouteNotFoundException(),
            };
            await WriteAsync(context, StatusCodes.Status200OK, result).ConfigureAwait(false);
        }
        catch (RouteNotFoundException)
        {
            await WriteAsync(context, StatusCodes.Status404NotFound, new { error = $"No control route {request.Method} {request.Path}." }).ConfigureAwait(false);
        }
        catch (KeyNotFoundException ex)
        {
            await WriteAsync(context, StatusCodes.Status404NotFound, new { error = ex.Message }).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is ArgumentException or InvalidOperationException or JsonException)
        {
            await WriteAsync(context, StatusCodes.Status400BadRequest, new { error = ex.Message }).ConfigureAwait(false);
        }
    }

    private static JsonSerializerOptions CreateJsonOptions()
    {
        var options = new JsonSerializerOptions(JsonSerializerDefaults.Web);
        options.Converters.Add(new JsonStringEnumConverter());
        return options;
    }

    private static async Task<T> ReadAsync<T>(HttpContext context)
    {
        var body = await JsonSerializer.DeserializeAsync<T>(context.Request.Body, Json, context.RequestAborted).ConfigureAwait(false);
        return body ?? throw new ArgumentException("A JSON body is required.");
    }

    private static async Task WriteAsync(HttpContext context, int status, object? value)
    {
        context.Response.StatusCode = status;
        context.Response.ContentType = "application/json";
        await JsonSerializer.SerializeAsync(context.Response.Body, value, value?.GetType() ?? typeof(object), Json, context.RequestAborted).ConfigureAwait(false);
    }

    private static string Required(string? value) =>
        string.IsNullOrEmpty(value) ? throw new ArgumentException("Query parameters apiKey (and symbol for trades) are required.") : value;

    private object Status() => new
    {
        baseUrl = exchange.BaseUrl,
        serverTime = exchange.ServerTime.ToUnixTimeMilliseconds(),
        clockSkewMs = (long)exchange.ClockSkew.TotalMilliseconds,
        weightLimitPerMinute = exchange.WeightLimitPerMinute,
        pendingFaults = exchange.PendingFaults,
        activePageFaults = exchange.ActivePageFaults,
        streamConnections = exchange.StreamConnections.Count,
        streamBaseUrl = exchange.StreamBaseUrl,
        symbols = exchange.Symbols,
        requests = exchange.Requests.Count,
        writeAttempts = exchange.WriteAttempts.Count,
    };

    private object AddAccount(AccountBody body)
    {
        exchange.AddAccount(Required(body.ApiKey), body.ApiSecret ?? string.Empty);

        // Never echo the secret.
        return new { apiKey = body.ApiKey };
    }

    private IReadOnlyList<FakeTrade> AddTrades(TradesBody body) =>
        exchange.AddTrades(Required(body.ApiKey), body.Trades ?? [], body.Visibility?.ToVisibility());

    private object Hide(HideBody body)
    {
        var visibility = body.Visibility?.ToVisibility() ?? throw new ArgumentException("visibility is required.");
        return new { hidden = exchange.HideTrades(Required(body.ApiKey), Required(body.Symbol), body.FromId, body.ToId, visibility) };
    }

    private object Reveal(AccountBody body) => new { revealed = exchange.RevealTrades(Required(body.ApiKey)) };

    private object TradeKeys(string apiKey) =>
        exchange.TradeKeys(apiKey).OrderBy(k => k.Symbol, StringComparer.Ordinal).ThenBy(k => k.Id).ThenBy(k => k.Side, StringComparer.Ordinal)
            .Select(k => new { symbol = k.Symbol, id = k.Id, side = k.Side }).ToArray();

    private object RestLag(RestLagBody body)
    {
        exchange.SetRestVisibilityLag(Required(body.ApiKey), TimeSpan.FromMilliseconds(body.LagMs));
        return new { lagMs = body.LagMs };
    }

    private object AddCorruptRow(CorruptRowBody body)
    {
        var raw = exchange.AddCorruptRow(Required(body.ApiKey), Required(body.Symbol), body.Corruption ?? FakeCorruption.NaNCommission, body.Id ?? FakeExchange.HugeCorruptId, body.TimeMs);
        return new { row = raw };
    }

    private object AddPageFault(FakePageFault fault)
    {
        exchange.AddPageFault(fault);
        return new { activePageFaults = exchange.ActivePageFaults };
    }

    private object Generate(GenerateBody body)
    {
        var rows = exchange.GenerateTrades(Required(body.ApiKey), Required(body.Symbol), body.Count, body.Seed, body.SelfTradePairFraction, body.StartTimeMs);
        return new
        {
            rows = rows.Count,
            firstId = rows.Count == 0 ? (long?)null : rows[0].Id,
            lastId = rows.Count == 0 ? (long?)null : rows[^1].Id,
            validTradeCount = exchange.ValidTradeCount(body.ApiKey!),
        };
    }

    private object AddRawRow(RawRowBody body)
    {
        var raw = body.Row.ValueKind switch
        {
            JsonValueKind.String => body.Row.GetString()!,
            JsonValueKind.Undefined => throw new ArgumentException("row is required."),
            _ => body.Row.GetRawText(),
        };
        exchange.AddRawRow(Required(body.ApiKey), Required(body.Symbol), body.Id, body.TimeMs, raw);
        return new { added = 1 };
    }

    private object ValidCount(string apiKey) => new { apiKey, validTradeCount = exchange.ValidTradeCount(apiKey), hiddenTradeCount = exchange.HiddenTradeCount(apiKey) };

    private object EnqueueFault(FakeFault fault)
    {
        exchange.EnqueueFault(fault);
        return new { pendingFaults = exchange.PendingFaults };
    }

    private object ExpireListenKey(ExpireBody body) => new { expired = exchange.ExpireListenKey(Required(body.ApiKey), body.Announce ?? true) };

    private object SetStreamFaults(StreamFaultsBody body)
    {
        exchange.SetStreamFaults(new FakeStreamFaults(body.DropFraction, body.DuplicateFraction, body.ReorderFraction, body.Seed ?? 1, body.AlterFraction), body.ApiKey);
        return new { apiKey = body.ApiKey };
    }

    private object RefuseStreams(RefusalBody body)
    {
        exchange.RefuseStreams(body.Refusal, body.ApiKey);
        return new { refusal = body.Refusal.ToString(), apiKey = body.ApiKey };
    }

    private object ClearStreamFaults()
    {
        exchange.ClearStreamFaults();
        return new { cleared = true };
    }

    private object Disconnect(DisconnectBody body)
    {
        var abort = body.Abort ?? true;
        if (body.AfterEvents is { } after)
        {
            exchange.DisconnectStreamsAfterEvents(Required(body.ApiKey), after);
            return new { armed = true };
        }

        return body.ConnectionId is { } id
            ? new { disconnected = exchange.DisconnectStream(id, abort) ? 1 : 0 }
            : new { disconnected = exchange.DisconnectStreams(body.ApiKey, abort) };
    }

    private object Reset()
    {
        exchange.ResetRequestLog();
        return new { requests = 0 };
    }

    private object ApplySettings(SettingsBody body)
    {
        if (body.ClockSkewMs is { } skew)
        {
            exchange.ClockSkew = TimeSpan.FromMilliseconds(skew);
        }

        if (body.WeightLimitPerMinute is { } limit)
        {
            exchange.WeightLimitPerMinute = limit;
        }

        return Status();
    }

    private sealed record AccountBody(string? ApiKey, string? ApiSecret);

    private sealed record TradesBody(string? ApiKey, IReadOnlyList<FakeTrade>? Trades, VisibilityBody? Visibility);

    private sealed record HideBody(string? ApiKey, string? Symbol, long FromId, long ToId, VisibilityBody? Visibility);

    private sealed record RestLagBody(string? ApiKey, long LagMs);

    private sealed record StreamFaultsBody(string? ApiKey, double DropFraction, double DuplicateFraction, double ReorderFraction, int? Seed, double AlterFraction);

    private sealed record RefusalBody(string? ApiKey, FakeStreamRefusal Refusal);

    private sealed record ExpireBody(string? ApiKey, bool? Announce);

    private sealed record DisconnectBody(string? ApiKey, long? ConnectionId, int? AfterEvents, bool? Abort);

    private sealed record CorruptRowBody(string? ApiKey, string? Symbol, FakeCorruption? Corruption, long? Id, long? TimeMs);

    /// <summary><see cref="FakeVisibility"/> with milliseconds, the unit scripts use everywhere else in this API.</summary>
    private sealed record VisibilityBody(long? DelayMs, long? AtMs, int Requests, bool UntilRevealed)
    {
        public FakeVisibility ToVisibility() => new(
            DelayMs is { } delay ? TimeSpan.FromMilliseconds(delay) : null,
            AtMs is { } at ? DateTimeOffset.FromUnixTimeMilliseconds(at) : null,
            Requests,
            UntilRevealed);
    }

    private sealed record GenerateBody(string? ApiKey, string? Symbol, int Count, int Seed, double SelfTradePairFraction, long? StartTimeMs);

    private sealed record RawRowBody(string? ApiKey, string? Symbol, long Id, long TimeMs, JsonElement Row);

    private sealed record SettingsBody(long? ClockSkewMs, int? WeightLimitPerMinute);

    private sealed class RouteNotFoundException : Exception;
}
