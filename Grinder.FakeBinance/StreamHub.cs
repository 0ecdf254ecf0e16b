using System.Net.WebSockets;

namespace Grinder.FakeBinance;

/// <summary>The user data stream side of the fake: listenKeys, WebSocket connections on <c>/private/ws</c> and
/// <c>/private/stream</c>, an ORDER_TRADE_UPDATE per added trade, listenKeyExpired, connection lifetime and stream faults.</summary>
/// <remarks>
/// Choices where Binance documents no exact behaviour (the README repeats them):
/// <list type="bullet">
/// <item>A handshake with an unknown or expired listenKey is refused with HTTP 400 <c>{"code":-1125}</c>, before the upgrade.</item>
/// <item>An expiring key gets listenKeyExpired on every connection carrying it and then no more events there; the connection
/// stays open ("This event is not related to the websocket disconnection": Binance docs).</item>
/// <item>listenKeyExpired is sent whatever <c>events</c> asked for; an absent <c>events</c> means every event.</item>
/// <item>At the maximum lifetime the server sends a close frame (1001) and drops the client if it does not answer.</item>
/// </list>
/// </remarks>
internal sealed class StreamHub
{
    public const string SinglePath = "/private/ws";

    public const string CombinedPath = "/private/stream";

    public const string OrderTradeUpdate = "ORDER_TRADE_UPDATE";

    private static readonly TimeSpan CloseHandshakeTimeout = TimeSpan.FromSeconds(5);

    private readonly FakeExchange _exchange;
    private readonly Lock _gate = new();
    private readonly List<StreamConnection> _connections = [];
    private readonly Dictionary<string, FaultState> _faults = new(StringComparer.Ordinal);
    private readonly Dictionary<string, int> _disconnectAfter = new(StringComparer.Ordinal);
    private readonly Dictionary<string, Held> _held = new(StringComparer.Ordinal);
    private readonly Dictionary<string, List<FakeTradeKey>> _dropped = new(StringComparer.Ordinal);
    private readonly Dictionary<string, List<FakeTradeKey>> _altered = new(StringComparer.Ordinal);
    private readonly Dictionary<string, FakeStreamRefusal> _refusals = new(StringComparer.Ordinal);
    private readonly Task _housekeeping;
    private FakeStreamRefusal _allAccountsRefusal;
    private FaultState? _allAccountsFaults;
    private long _nextConnectionId;

    public StreamHub(FakeExchange exchange)
    {
        _exchange = exchange;
        Keys = new ListenKeyRegistry(exchange.Options.ListenKeyValidity);
        _housekeeping = Task.Run(HousekeepAsync);
    }

    public ListenKeyRegistry Keys { get; }

    public ChangeSignal Changed { get; } = new();

    public Task Completion => _housekeeping;

    /// <summary>Paths this hub answers: the two private forms, and the retired legacy forms it refuses.</summary>
    public static bool Handles(string path) =>
        path.StartsWith("/private/", StringComparison.Ordinal) || path == "/private"
        || path.StartsWith("/ws/", StringComparison.Ordinal) || path == "/ws"
        || path == "/stream";

    public IReadOnlyList<FakeStreamConnection> Connections
    {
        get
        {
            lock (_gate)
            {
                return [.. _connections.Where(c => !c.Ending).Select(c => new FakeStreamConnection(
                    c.Id,
                    c.Path,
                    [.. c.Subscriptions.Select(s => s.ApiKey).Distinct()],
                    [.. c.Subscriptions.Where(s => s.Live).Select(s => s.ApiKey).Distinct()],
                    c.ConnectedAt,
                    c.Sent))];
            }
        }
    }

    public void SetFaults(FakeStreamFaults faults, string? apiKey)
    {
        ArgumentNullException.ThrowIfNull(faults);
        if (faults.Problem() is { } problem)
        {
            throw new ArgumentException(problem, nameof(faults));
        }

        lock (_gate)
        {
            var state = new FaultState(faults);
            if (apiKey is null)
            {
                _allAccountsFaults = state;
            }
            else
            {
                _faults[apiKey] = state;
            }
        }
    }

    public void ClearFaults()
    {
        List<(string ApiKey, Held Held)> release;
        lock (_gate)
        {
            _faults.Clear();
            _allAccountsFaults = null;
            _disconnectAfter.Clear();
            release = [.. _held.Select(h => (h.Key, h.Value))];
            _held.Clear();
            foreach (var (apiKey, held) in release)
            {
                Deliver(apiKey, held.Payload);
            }
        }
    }

    public IReadOnlyList<FakeTradeKey> Dropped(string apiKey)
    {
        lock (_gate)
        {
            return _dropped.TryGetValue(apiKey, out var dropped) ? [.. dropped] : [];
        }
    }

    public IReadOnlyList<FakeTradeKey> Altered(string apiKey)
    {
        lock (_gate)
        {
            return _altered.TryGetValue(apiKey, out var altered) ? [.. altered] : [];
        }
    }

    /// <summary>Sets how the account's (null: every account's) stream is refused; <see cref="FakeStreamRefusal.None"/> lifts it.</summary>
    public void Refuse(FakeStreamRefusal refusal, string? apiKey)
    {
        lock (_gate)
        {
            if (apiKey is null)
            {
                _allAccountsRefusal = refusal;
                _refusals.Clear();
            }
            else
            {
                _refusals[apiKey] = refusal;
            }
        }
    }

    public FakeStreamRefusal RefusalFor(string? apiKey)
    {
        lock (_gate)
        {
            return apiKey is not null && _refusals.TryGetValue(apiKey, out var refusal) ? refusal : _allAccountsRefusal;
        }
    }

    /// <summary>Ends every connection carrying the account's key (null: every connection). Returns how many.</summary>
    public int Disconnect(string? apiKey, bool abort)
    {
        int ended;
        lock (_gate)
        {
            var targets = _connections.Where(c => !c.Ending && (apiKey is null || c.Subscriptions.Any(s => s.ApiKey == apiKey))).ToList();
            foreach (var connection in targets)
            {
                connection.End(abort);
            }

            ended = targets.Count;
        }

        Changed.Notify();
        return ended;
    }

    public bool DisconnectOne(long connectionId, bool abort)
    {
        bool found;
        lock (_gate)
        {
            var connection = _connections.FirstOrDefault(c => c.Id == connectionId && !c.Ending);
            connection?.End(abort);
            found = connection is not null;
        }

        Changed.Notify();
        return found;
    }

    /// <summary>After the account's next <paramref name="events"/> delivered events, its connections are dropped (abruptly);
    /// events published later in the burst reach no one until the client reconnects.</summary>
    public void DisconnectAfter(string apiKey, int events)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(events, 1);
        lock (_gate)
        {
            _disconnectAfter[apiKey] = events;
        }
    }

    /// <summary>Expires the account's key now and announces it (unless <paramref name="announce"/> is false: the event is lost
    /// and connections carrying the key just stop getting events). Returns false when it had no active key.</summary>
    public bool ExpireNow(string apiKey, bool announce)
    {
        var key = Keys.ExpireNow(apiKey, NowMs());
        if (key is null)
        {
            return false;
        }

        if (announce)
        {
            Announce([(apiKey, key)]);
        }
        else
        {
            lock (_gate)
            {
                foreach (var subscription in _connections.SelectMany(c => c.Subscriptions).Where(s => s.ListenKey == key))
                {
                    subscription.Live = false;
                }
            }

            Changed.Notify();
        }

        return true;
    }

    /// <summary>One ORDER_TRADE_UPDATE per trade (both rows of a self-trade), to every live subscription of the account.</summary>
    public void Publish(string apiKey, IReadOnlyList<FakeTrade> trades)
    {
        var nowMs = NowMs();
        lock (_gate)
        {
            var faults = _faults.GetValueOrDefault(apiKey) ?? _allAccountsFaults;
            foreach (var trade in trades)
            {
                var payload = StreamEvents.OrderTradeUpdate(trade, nowMs);
                var draw = faults?.Draw() ?? Draw.Send;
                switch (draw)
                {
                    case Draw.Drop:
                        if (!_dropped.TryGetValue(apiKey, out var dropped))
                        {
                            dropped = [];
                            _dropped.Add(apiKey, dropped);
                        }

                        dropped.Add(new FakeTradeKey(trade.Symbol, trade.Id, trade.Side));
                        continue;
                    case Draw.Hold when !_held.ContainsKey(apiKey):
                        _held[apiKey] = new Held(payload, nowMs);
                        continue;
                    case Draw.Alter:
                        if (!_altered.TryGetValue(apiKey, out var altered))
                        {
                            altered = [];
                            _altered.Add(apiKey, altered);
                        }

                        altered.Add(new FakeTradeKey(trade.Symbol, trade.Id, trade.Side));
                        payload = StreamEvents.OrderTradeUpdate(trade with { Commission = trade.Commission + 0.01m, RealizedPnl = trade.RealizedPnl + 1m }, nowMs);
                        break;
                }

                DeliverEvent(apiKey, payload);
                if (draw == Draw.Duplicate)
                {
                    DeliverEvent(apiKey, payload);
                }

                if (_held.Remove(apiKey, out var held))
                {
                    // The held event goes out after the one that followed it: the two arrive swapped.
                    DeliverEvent(apiKey, held.Payload);
                }
            }
        }
    }

    /// <summary>Answers a request on a stream path: the upgrade, or an HTTP refusal with a Binance error body.</summary>
    public async Task HandleAsync(HttpContext context, string path)
    {
        var arrived = _exchange.ServerTime;
        var status = StatusCodes.Status101SwitchingProtocols;
        int? errorCode = null;
        StreamConnection? connection = null;
        try
        {
            var refusal = Validate(context, path, out var subscriptions);
            if (refusal is not null)
            {
                status = refusal.HttpStatus;
                errorCode = refusal.Code;
                context.Response.StatusCode = refusal.HttpStatus;
                await context.Response.WriteAsJsonAsync(new { code = refusal.Code, msg = refusal.Message }, context.RequestAborted).ConfigureAwait(false);
                return;
            }

            var socket = await context.WebSockets.AcceptWebSocketAsync(new WebSocketAcceptContext
            {
                // Binance: the server pings every 3 minutes and drops a client that sent no pong within 10 minutes.
                KeepAliveInterval = _exchange.Options.StreamPingInterval,
                KeepAliveTimeout = _exchange.Options.StreamPongTimeout,
            }).ConfigureAwait(false);
            lock (_gate)
            {
                connection = new StreamConnection(++_nextConnectionId, path, path == CombinedPath, socket, subscriptions, arrived);
                _connections.Add(connection);

                if (subscriptions.Any(s => RefusalFor(s.ApiKey) == FakeStreamRefusal.ClosedAfterUpgrade))
                {
                    connection.End(abort: false, WebSocketCloseStatus.PolicyViolation, "refused");
                }

                // A key that expired during the handshake was announced before this connection was filed: tell it now.
                var nowMs = NowMs();
                foreach (var subscription in subscriptions.Where(s => Keys.AccountOf(s.ListenKey, nowMs) is null))
                {
                    subscription.Live = false;
                    connection.Send(subscription.ListenKey, StreamEvents.ListenKeyExpired(subscription.ListenKey, nowMs));
                }
            }
        }
        finally
        {
            _exchange.Log.Add(new FakeRequestRecord(
                arrived,
                context.Request.Method,
                path,
                context.Request.QueryString.HasValue ? context.Request.QueryString.Value![1..] : string.Empty,
                null,
                context.Connection.RemoteIpAddress?.ToString() ?? "unknown",
                status,
                errorCode,
                null,
                false,
                false));
        }

        Changed.Notify();
        try
        {
            await connection.RunAsync(CloseHandshakeTimeout, _exchange.Stopping).ConfigureAwait(false);
        }
        finally
        {
            lock (_gate)
            {
                _connections.Remove(connection);
            }

            Changed.Notify();
        }
    }

    private ApiError? Validate(HttpContext context, string path, out List<StreamSubscription> subscriptions)
    {
        subscriptions = [];
        if (path != SinglePath && path != CombinedPath)
        {
            // Legacy wss://fstream.binance.com/ws/<listenKey> and /stream?streams= were retired in 2026 (Binance announcement).
            return path.StartsWith("/private/", StringComparison.Ordinal)
                ? ApiError.NotFound(context.Request.Method, path)
                : new ApiError(StatusCodes.Status410Gone, -5000, $"Path {path} is retired; use {SinglePath}?listenKey=...&events=... or {CombinedPath}.");
        }

        if (RefusalFor(null) == FakeStreamRefusal.EndpointMissing)
        {
            return ApiError.NotFound(context.Request.Method, path);
        }

        if (!context.WebSockets.IsWebSocketRequest)
        {
            return new ApiError(StatusCodes.Status400BadRequest, -1100, "A WebSocket upgrade request is required on this path.");
        }

        // listenKey and events come in pairs, in order: listenKey=K1&events=A&listenKey=K2&events=B.
        var pairs = new List<(string Key, string? Events)>();
        var raw = context.Request.QueryString.HasValue ? context.Request.QueryString.Value![1..] : string.Empty;
        foreach (var part in raw.Split('&', StringSplitOptions.RemoveEmptyEntries))
        {
            var eq = part.IndexOf('=');
            var name = Uri.UnescapeDataString(eq < 0 ? part : part[..eq]);
            var value = eq < 0 ? string.Empty : Uri.UnescapeDataString(part[(eq + 1)..]);
            if (name == "listenKey")
            {
                pairs.Add((value, null));
            }
            else if (name == "events")
            {
                if (pairs.Count == 0 || pairs[^1].Events is not null)
                {
                    return ApiError.InvalidParameter("events");
                }

                pairs[^1] = (pairs[^1].Key, value);
            }
        }

        if (pairs.Count == 0 || pairs.Any(p => p.Key.Length == 0))
        {
            return ApiError.Mandatory("listenKey");
        }

        if (path == SinglePath && pairs.Count > 1)
        {
            return new ApiError(StatusCodes.Status400BadRequest, -1101, $"Duplicate values for a parameter detected: 'listenKey' ({SinglePath} carries one key; use {CombinedPath}).");
        }

        var nowMs = NowMs();
        foreach (var (key, events) in pairs.DistinctBy(p => p.Key))
        {
            var apiKey = Keys.AccountOf(key, nowMs);
            if (apiKey is null)
            {
                return ListenKeyMissing();
            }

            switch (RefusalFor(apiKey))
            {
                case FakeStreamRefusal.HandshakeUnavailable:
                    return new ApiError(StatusCodes.Status503ServiceUnavailable, -1000, "Service unavailable.");
                case FakeStreamRefusal.EndpointMissing:
                    return ApiError.NotFound(context.Request.Method, path);
            }

            IReadOnlySet<string>? names = events is null
                ? null
                : events.Split(['/', ','], StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).ToHashSet(StringComparer.Ordinal);
            subscriptions.Add(new StreamSubscription(key, apiKey, names));
        }

        return null;
    }

    public static ApiError ListenKeyMissing() => new(StatusCodes.Status400BadRequest, -1125, "This listenKey does not exist.");

    private void DeliverEvent(string apiKey, byte[] payload)
    {
        Deliver(apiKey, payload);
        if (_disconnectAfter.TryGetValue(apiKey, out var left))
        {
            if (left <= 1)
            {
                _disconnectAfter.Remove(apiKey);
                foreach (var connection in _connections.Where(c => c.Subscriptions.Any(s => s.ApiKey == apiKey)))
                {
                    connection.End(abort: true);
                }

                Changed.Notify();
            }
            else
            {
                _disconnectAfter[apiKey] = left - 1;
            }
        }
    }

    /// <summary>Queues an ORDER_TRADE_UPDATE on every connection with a live subscription of the account that wants it. Under the lock.</summary>
    private void Deliver(string apiKey, byte[] payload)
    {
        foreach (var connection in _connections)
        {
            foreach (var subscription in connection.Subscriptions)
            {
                if (subscription.Live && subscription.ApiKey == apiKey && subscription.Wants(OrderTradeUpdate))
                {
                    connection.Send(subscription.ListenKey, payload);
                }
            }
        }
    }

    private void Announce(List<(string ApiKey, string Key)> expired)
    {
        if (expired.Count == 0)
        {
            return;
        }

        var nowMs = NowMs();
        lock (_gate)
        {
            foreach (var (_, key) in expired)
            {
                var payload = StreamEvents.ListenKeyExpired(key, nowMs);
                foreach (var connection in _connections)
                {
                    foreach (var subscription in connection.Subscriptions.Where(s => s.Live && s.ListenKey == key))
                    {
                        connection.Send(key, payload);
                        subscription.Live = false;
                    }
                }
            }
        }

        Changed.Notify();
    }

    private async Task HousekeepAsync()
    {
        var options = _exchange.Options;
        using var timer = new PeriodicTimer(options.StreamHousekeepingInterval, options.TimeProvider);
        try
        {
            while (await timer.WaitForNextTickAsync(_exchange.Stopping).ConfigureAwait(false))
            {
                var nowMs = NowMs();
                Announce(Keys.TakeExpired(nowMs));
                var lifetimeMs = (long)options.StreamMaxConnectionLifetime.TotalMilliseconds;
                var holdMs = (long)options.StreamReorderHoldLimit.TotalMilliseconds;
                lock (_gate)
                {
                    foreach (var connection in _connections.Where(c => !c.Ending && c.ConnectedAt.ToUnixTimeMilliseconds() + lifetimeMs <= nowMs))
                    {
                        // "A single connection is only valid for 24 hours; expect to be disconnected at the 24 hour mark" (Binance docs).
                        connection.End(abort: false, WebSocketCloseStatus.EndpointUnavailable, "connection lifetime reached");
                    }

                    foreach (var (apiKey, held) in _held.Where(h => h.Value.SinceMs + holdMs <= nowMs).ToList())
                    {
                        _held.Remove(apiKey);
                        DeliverEvent(apiKey, held.Payload);
                    }
                }
            }
        }
        catch (OperationCanceledException) when (_exchange.Stopping.IsCancellationRequested)
        {
            // The fake is stopping.
        }
    }

    private long NowMs() => _exchange.ServerTime.ToUnixTimeMilliseconds();

    private enum Draw
    {
        Send,
        Drop,
        Hold,
        Duplicate,
        Alter,
    }

    private sealed record Held(byte[] Payload, long SinceMs);

    private sealed class FaultState(FakeStreamFaults faults)
    {
        private readonly Random _random = new(faults.Seed);

        public Draw Draw()
        {
            var p = _random.NextDouble();
            return (p -= faults.DropFraction) < 0 ? StreamHub.Draw.Drop
                : (p -= faults.ReorderFraction) < 0 ? StreamHub.Draw.Hold
                : (p -= faults.DuplicateFraction) < 0 ? StreamHub.Draw.Duplicate
                : p - faults.AlterFraction < 0 ? StreamHub.Draw.Alter
                : StreamHub.Draw.Send;
        }
    }
}
