using Microsoft.Extensions.Logging.Abstractions;

namespace Grinder.FakeBinance;

/// <summary>A faithful stand-in for the Binance USD-M REST endpoints the fill tracker reads, on a real Kestrel listener,
/// with fault injection, a request log and a control API under <c>/_fake/</c>.</summary>
/// <remarks>It shares no code with the service's Binance client (own signature check, own row model), so a contract
/// bug cannot hide in both.</remarks>
public sealed class FakeExchange : IAsyncDisposable
{
    private readonly WebApplication _app;
    private readonly FakeExchangeOptions _options;
    private readonly TradeBook _book;
    private readonly IpWeightLimiter _limiter;
    private readonly FaultInjector _faults;
    private readonly PageFaultBook _pageFaults = new();
    private readonly RequestLog _log;
    private readonly ILogger _logger;
    private readonly CancellationTokenSource _stopping = new();
    private readonly List<FakeTradeGenerator> _generators = [];
    private readonly ChangeSignal _tradesChanged = new();
    private long _clockSkewTicks;
    private int _disposed;

    private FakeExchange(WebApplication app, FakeExchangeOptions options)
    {
        _app = app;
        _options = options;
        _book = new TradeBook(options.Symbols);
        _limiter = new IpWeightLimiter
        {
            LimitPerMinute = options.WeightLimitPerMinute,
            BanAfterRequestsWhileLimited = options.BanAfterRequestsWhileLimited,
            BanDuration = options.BanDuration,
        };
        _faults = new FaultInjector(options.RandomFaults);
        _log = new RequestLog(options.MaxLoggedRequests);
        _logger = (options.LoggerFactory ?? NullLoggerFactory.Instance).CreateLogger<FakeExchange>();
        Endpoints = new ExchangeEndpoints(this);
        Control = new ControlApi(this);
        Stream = new StreamHub(this);
    }

    /// <summary>Where the fake listens, with a trailing slash, e.g. <c>http://127.0.0.1:54321/</c>.</summary>
    public Uri BaseUrl { get; private set; } = new("http://127.0.0.1/");

    /// <summary>Exchange requests so far, oldest first (control API calls excluded; the newest <see cref="FakeExchangeOptions.MaxLoggedRequests"/> are kept).</summary>
    public IReadOnlyList<FakeRequestRecord> Requests => _log.Requests;

    /// <summary>Every order-endpoint or non-GET request so far. Kept for the fake's lifetime: <see cref="ResetRequestLog"/> does not clear it.</summary>
    public IReadOnlyList<FakeRequestRecord> WriteAttempts => _log.WriteAttempts;

    /// <summary>Server time = real time + skew. A positive skew makes the exchange's clock run ahead of the client's.</summary>
    public TimeSpan ClockSkew
    {
        get => TimeSpan.FromTicks(Interlocked.Read(ref _clockSkewTicks));
        set => Interlocked.Exchange(ref _clockSkewTicks, value.Ticks);
    }

    /// <summary>REQUEST_WEIGHT per IP and minute; changes take effect on the next request.</summary>
    public int WeightLimitPerMinute
    {
        get => _limiter.LimitPerMinute;
        set
        {
            ArgumentOutOfRangeException.ThrowIfLessThan(value, 1);
            _limiter.LimitPerMinute = value;
        }
    }

    /// <summary>The exchange's current time.</summary>
    public DateTimeOffset ServerTime => _options.TimeProvider.GetUtcNow() + ClockSkew;

    /// <summary>Symbols the exchange lists.</summary>
    public IReadOnlyList<string> Symbols => _book.Symbols;

    /// <summary>Queued faults not yet consumed.</summary>
    public int PendingFaults => _faults.Pending;

    /// <summary>Page faults still active.</summary>
    public int ActivePageFaults => _pageFaults.Count;

    /// <summary>Default id of <see cref="AddCorruptRow"/>: far above any real id, so a client that moves its read position to it
    /// skips every later trade of the symbol.</summary>
    public const long HugeCorruptId = 9_000_000_000_000;

    internal FakeExchangeOptions Options => _options;

    internal TradeBook Book => _book;

    internal IpWeightLimiter Limiter => _limiter;

    internal FaultInjector Faults => _faults;

    internal PageFaultBook PageFaults => _pageFaults;

    internal RequestLog Log => _log;

    internal ILogger Logger => _logger;

    internal CancellationToken Stopping => _stopping.Token;

    internal StreamHub Stream { get; }

    private ExchangeEndpoints Endpoints { get; }

    private ControlApi Control { get; }

    /// <summary>Starts Kestrel on <see cref="FakeExchangeOptions.Url"/> (default <c>http://127.0.0.1:0</c>, a free port).</summary>
    public static async Task<FakeExchange> StartAsync(FakeExchangeOptions? options = null, CancellationToken cancellationToken = default)
    {
        options ??= new FakeExchangeOptions();
        Validate(options);

        // An empty builder: no appsettings, environment or command line of the hosting process leak in.
        var builder = WebApplication.CreateEmptyBuilder(new WebApplicationOptions());
        builder.WebHost.UseKestrelCore();
        builder.WebHost.UseUrls(options.Url ?? "http://127.0.0.1:0");
        builder.Services.Configure<HostOptions>(o => o.ShutdownTimeout = TimeSpan.FromSeconds(5));

        // The embedding process owns Ctrl+C/SIGTERM and the console; the fake only starts and stops when told.
        builder.Services.AddSingleton<IHostLifetime, EmbeddedLifetime>();

        var app = builder.Build();
        var exchange = new FakeExchange(app, options);
        app.UseWebSockets();
        app.Run(exchange.HandleAsync);
        try
        {
            await app.StartAsync(cancellationToken).ConfigureAwait(false);
        }
        catch
        {
            // The stream's housekeeping already runs: stop it with the half-started exchange (a port in use, say).
            await exchange.DisposeAsync().ConfigureAwait(false);
            throw;
        }

        exchange.BaseUrl = new Uri(app.Urls.First().TrimEnd('/') + "/");
        Grinder.FakeBinance.Log.Listening(exchange._logger, exchange.BaseUrl);
        return exchange;
    }

    /// <summary>Starts an exchange as the executable does: accounts, optional history, and a fill generator per account.
    /// This is the one seam through which a local demo can host the fake in-process.</summary>
    public static async Task<FakeExchange> StartDemoAsync(FakeBinanceHostOptions options, ILoggerFactory? loggerFactory = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(options);
        if (FakeBinanceHostOptionsValidator.Check(options) is { } problem)
        {
            throw new ArgumentException(problem, nameof(options));
        }

        var symbols = options.SymbolList;
        var exchange = await StartAsync(
            new FakeExchangeOptions
            {
                Url = options.Url,
                WeightLimitPerMinute = options.WeightLimitPerMinute,
                RandomFaults = options.RandomFaults,
                ListenKeyValidity = options.ListenKeyValidity,
                StreamPingInterval = options.StreamPingInterval,
                StreamMaxConnectionLifetime = options.StreamMaxConnectionLifetime,
                LoggerFactory = loggerFactory,
                Symbols = [.. new FakeExchangeOptions().Symbols.Union(symbols)],
            },
            cancellationToken).ConfigureAwait(false);
        var index = 0;
        foreach (var (apiKey, apiSecret) in options.AccountList)
        {
            exchange.AddAccount(apiKey, apiSecret);
            if (options.InitialTrades > 0)
            {
                var from = (exchange.ServerTime - options.InitialHistory).ToUnixTimeMilliseconds();
                foreach (var symbol in symbols)
                {
                    exchange.GenerateTrades(apiKey, symbol, options.InitialTrades, options.Seed + index, options.SelfTradePairFraction, from);
                }
            }

            if (options.GenerateEvery > TimeSpan.Zero)
            {
                exchange.StartGenerator(apiKey, symbols, options.GenerateEvery, options.GenerateCount, options.Seed + (1000 * (index + 1)), options.SelfTradePairFraction);
            }

            index++;
        }

        return exchange;
    }

    /// <summary>Adds an account, or replaces the secret of an existing one.</summary>
    public void AddAccount(string apiKey, string apiSecret) => _book.AddAccount(apiKey, apiSecret);

    /// <summary>Adds a symbol to <c>exchangeInfo</c> and to the symbols userTrades accepts.</summary>
    public void AddSymbol(string symbol) => _book.AddSymbol(symbol);

    /// <summary>Adds one valid row. <see cref="FakeTrade.Id"/> 0 takes the symbol's next id, <see cref="FakeTrade.OrderId"/> 0 a fresh
    /// order id, <see cref="FakeTrade.TimeMs"/> 0 the server time. Throws when the row is not a valid Binance row or when
    /// (symbol, id, side) already exists. With <paramref name="visibility"/> the row exists (and is pushed on the stream) now but
    /// userTrades serves it only later; an explicit <see cref="FakeTrade.Id"/> below ids already served makes a late lower id.</summary>
    public FakeTrade AddTrade(string apiKey, FakeTrade trade, FakeVisibility? visibility = null)
    {
        ArgumentNullException.ThrowIfNull(trade);
        return AddTrades(apiKey, [trade], visibility)[0];
    }

    /// <summary>Adds several valid rows atomically (any symbols), with the rules of <see cref="AddTrade"/>; rows with id 0 take
    /// consecutive new ids per symbol in list order. All of them share <paramref name="visibility"/>.</summary>
    public IReadOnlyList<FakeTrade> AddTrades(string apiKey, IReadOnlyList<FakeTrade> trades, FakeVisibility? visibility = null)
    {
        ArgumentNullException.ThrowIfNull(trades);
        foreach (var trade in trades)
        {
            ArgumentNullException.ThrowIfNull(trade, nameof(trades));
            if (TradeRules.Problem(trade) is { } problem)
            {
                throw new ArgumentException(problem, nameof(trades));
            }
        }

        if (visibility?.Problem() is { } visibilityProblem)
        {
            throw new ArgumentException(visibilityProblem, nameof(visibility));
        }

        var nowMs = ServerTime.ToUnixTimeMilliseconds();
        var stored = _book.AppendAcross(apiKey, nowMs, tailOf =>
        {
            var nextIds = new Dictionary<string, long>(StringComparer.Ordinal);
            var nextOrderIds = new Dictionary<string, long>(StringComparer.Ordinal);
            var result = new List<FakeTrade>(trades.Count);
            foreach (var trade in trades)
            {
                if (!nextIds.ContainsKey(trade.Symbol))
                {
                    var tail = tailOf(trade.Symbol);
                    nextIds[trade.Symbol] = tail.LastId == 0 ? TradeFactory.FirstTradeId : tail.LastId + 1;
                    nextOrderIds[trade.Symbol] = tail.LastOrderId + 1;
                }

                result.Add(trade with
                {
                    Id = trade.Id != 0 ? trade.Id : nextIds[trade.Symbol]++,
                    OrderId = trade.OrderId != 0 ? trade.OrderId : nextOrderIds[trade.Symbol]++,
                    TimeMs = trade.TimeMs != 0 ? trade.TimeMs : nowMs,
                });
            }

            return result;
        }, visibility);
        _tradesChanged.Notify();
        Stream.Publish(apiKey, stored);
        return stored;
    }

    /// <summary>Hides the existing valid rows of a symbol with ids in [<paramref name="fromId"/>, <paramref name="toId"/>] (both
    /// sides of a self-trade) from userTrades per <paramref name="visibility"/>. Returns how many rows were hidden.</summary>
    public int HideTrades(string apiKey, string symbol, long fromId, long toId, FakeVisibility visibility)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(symbol);
        ArgumentNullException.ThrowIfNull(visibility);
        if (visibility.Problem() is { } problem)
        {
            throw new ArgumentException(problem, nameof(visibility));
        }

        var hidden = _book.Hide(apiKey, symbol, fromId, toId, visibility, ServerTime.ToUnixTimeMilliseconds());
        _tradesChanged.Notify();
        return hidden;
    }

    /// <summary>Makes every hidden row of the account visible in userTrades now. Returns how many were hidden.</summary>
    public int RevealTrades(string apiKey)
    {
        var revealed = _book.Reveal(apiKey, ServerTime.ToUnixTimeMilliseconds());
        _tradesChanged.Notify();
        return revealed;
    }

    /// <summary>Valid rows of the account that exist but userTrades does not serve yet.</summary>
    public int HiddenTradeCount(string apiKey) => _book.HiddenCount(apiKey, ServerTime.ToUnixTimeMilliseconds());

    /// <summary>REST lagging the stream: every trade added to the account from now on (also by generators) is hidden from
    /// userTrades for <paramref name="lag"/> after it is added. <see cref="TimeSpan.Zero"/> turns it off.</summary>
    public void SetRestVisibilityLag(string apiKey, TimeSpan lag)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(lag, TimeSpan.Zero);
        _book.SetRestLag(apiKey, lag);
    }

    /// <summary>The account's trades: (symbol, id, side) of every valid row within the history Binance serves (6 months), hidden
    /// rows included (they exist; a correct client must count them once visible). Corrupt, raw and fabricated rows are not trades.
    /// A client's ledger must end equal to this set.</summary>
    public IReadOnlySet<FakeTradeKey> TradeKeys(string apiKey) => _book.Keys(apiKey, HistoryFloorMs());

    /// <summary>Adds a row that fails validation (<paramref name="corruption"/>) but looks like a real row of
    /// <paramref name="symbol"/> with a readable <paramref name="id"/> (default <see cref="HugeCorruptId"/>) and time (default now).
    /// It is stored among the symbol's rows in id order, so fromId pages serve it after every real row below its id and time
    /// windows serve it at its time. New ids do not continue from it, and it is never a trade. Returns the raw JSON served.</summary>
    public string AddCorruptRow(string apiKey, string symbol, FakeCorruption corruption = FakeCorruption.NaNCommission, long id = HugeCorruptId, long? timeMs = null)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(symbol);
        ArgumentOutOfRangeException.ThrowIfLessThan(id, 1);
        var time = timeMs ?? ServerTime.ToUnixTimeMilliseconds();
        var raw = RowJson.CorruptRow(symbol, id, time, corruption);
        _book.AddRaw(apiKey, symbol, id, time, raw, outsideSequence: true);
        _tradesChanged.Notify();
        return raw;
    }

    /// <summary>Activates a fault that reshapes served userTrades pages (foreign symbol rows, fabricated rows, out of id order,
    /// SELL before BUY); see <see cref="FakePageFault"/>.</summary>
    public void AddPageFault(FakePageFault fault) => _pageFaults.Add(fault);

    /// <summary>Removes every active page fault. Returns how many there were.</summary>
    public int ClearPageFaults() => _pageFaults.Clear();

    /// <summary>Generates <paramref name="count"/> trade ids for a symbol; ids continue after the symbol's last id. Times ascend and end
    /// near the server time; with <paramref name="startTimeMs"/> they spread evenly from there to now. With
    /// <paramref name="selfTradePairFraction"/> some ids become self-trades: two rows with the same id, BUY and SELL,
    /// one maker and one taker (so the returned list can be longer than <paramref name="count"/>).</summary>
    public IReadOnlyList<FakeTrade> GenerateTrades(string apiKey, string symbol, int count, int seed, double selfTradePairFraction = 0, long? startTimeMs = null)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(symbol);
        ArgumentOutOfRangeException.ThrowIfNegative(count);
        if (double.IsNaN(selfTradePairFraction) || selfTradePairFraction is < 0 or > 1)
        {
            throw new ArgumentOutOfRangeException(nameof(selfTradePairFraction), "Must be between 0 and 1.");
        }

        var nowMs = ServerTime.ToUnixTimeMilliseconds();
        var created = _book.Append(apiKey, symbol, nowMs, tail => TradeFactory.Generate(symbol, tail, count, seed, selfTradePairFraction, nowMs, startTimeMs));
        _tradesChanged.Notify();
        Stream.Publish(apiKey, created);
        return created;
    }

    /// <summary>Adds a row served verbatim (for invalid-row catalogues), ordered by <paramref name="id"/> among the others and
    /// filtered by <paramref name="timeMs"/>. It never counts as a valid trade. The text is not checked: a row that is not
    /// JSON makes the whole page unparsable.</summary>
    public void AddRawRow(string apiKey, string symbol, long id, long timeMs, string rawJsonObject)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(symbol);
        ArgumentException.ThrowIfNullOrEmpty(rawJsonObject);
        _book.AddRaw(apiKey, symbol, id, timeMs, rawJsonObject);
        _tradesChanged.Notify();
    }

    /// <summary>Queues a fault for the next matching userTrades request(s); queued faults apply in order.</summary>
    public void EnqueueFault(FakeFault fault) => _faults.Enqueue(fault);

    /// <summary>Valid rows of one account and symbol, ascending by id, hidden rows included.</summary>
    public IReadOnlyList<FakeTrade> Trades(string apiKey, string symbol) => _book.ValidTrades(apiKey, symbol);

    /// <summary>Rows a correct client must count for the account: valid rows within the history Binance serves (6 months), hidden
    /// rows included; a self-trade pair is two rows and both count. Equals the size of <see cref="TradeKeys"/>.</summary>
    public int ValidTradeCount(string apiKey) => _book.ValidCount(apiKey, HistoryFloorMs());

    /// <summary>The WebSocket base of the user data stream, e.g. <c>ws://127.0.0.1:54321/</c>: connect to
    /// <c>private/ws?listenKey=K&amp;events=ORDER_TRADE_UPDATE</c> or <c>private/stream?listenKey=K1&amp;events=...&amp;listenKey=K2...</c>.</summary>
    public Uri StreamBaseUrl => new("ws" + BaseUrl.AbsoluteUri[4..]);

    /// <summary>Open user data stream connections.</summary>
    public IReadOnlyList<FakeStreamConnection> StreamConnections => Stream.Connections;

    /// <summary>The account's active listenKey (what <c>POST /fapi/v1/listenKey</c> would return without creating one), or null.</summary>
    public string? ActiveListenKey(string apiKey) => Stream.Keys.ActiveKey(apiKey, ServerTime.ToUnixTimeMilliseconds());

    /// <summary>Ends the account's listenKey now: listenKeyExpired goes to every connection carrying it, which then get no more
    /// events for it; PUT answers -1125 and the next POST creates a new key. Returns false when there was no active key.
    /// With <paramref name="announce"/> false the listenKeyExpired event is lost: only the -1125 of the next PUT tells.
    /// Keys also expire by themselves after <see cref="FakeExchangeOptions.ListenKeyValidity"/> without POST or PUT.</summary>
    public bool ExpireListenKey(string apiKey, bool announce = true) => Stream.ExpireNow(apiKey, announce);

    /// <summary>Seeded drop, duplicate and reorder faults for the account's stream events (null: every account without its own).</summary>
    public void SetStreamFaults(FakeStreamFaults faults, string? apiKey = null) => Stream.SetFaults(faults, apiKey);

    /// <summary>Removes every stream fault and pending disconnect, and sends any held (reordered) event now.</summary>
    public void ClearStreamFaults() => Stream.ClearFaults();

    /// <summary>ORDER_TRADE_UPDATE events sent with amounts that differ from the REST row (<see cref="FakeStreamFaults.AlterFraction"/>).</summary>
    public IReadOnlyList<FakeTradeKey> AlteredStreamEvents(string apiKey) => Stream.Altered(apiKey);

    /// <summary>Refuses the account's (null: every account's) user data stream as <paramref name="refusal"/> says, until called
    /// again with <see cref="FakeStreamRefusal.None"/>; connections already open stay open. For REST fallback tests.</summary>
    public void RefuseStreams(FakeStreamRefusal refusal, string? apiKey = null) => Stream.Refuse(refusal, apiKey);

    /// <summary>ORDER_TRADE_UPDATE events the stream faults dropped for the account, oldest first.</summary>
    public IReadOnlyList<FakeTradeKey> DroppedStreamEvents(string apiKey) => Stream.Dropped(apiKey);

    /// <summary>Ends every connection carrying the account's key (null: all connections) after the messages already queued:
    /// abruptly (<paramref name="abort"/>: no close frame, like a lost TCP connection) or with a close frame (1001). Returns how many.</summary>
    public int DisconnectStreams(string? apiKey = null, bool abort = true) => Stream.Disconnect(apiKey, abort);

    /// <summary>Ends one connection (see <see cref="StreamConnections"/>). Returns false when it is not open.</summary>
    public bool DisconnectStream(long connectionId, bool abort = true) => Stream.DisconnectOne(connectionId, abort);

    /// <summary>A disconnect during a burst: the account's connections are dropped right after its next <paramref name="events"/>
    /// delivered events; the rest of the burst reaches no one until the client reconnects.</summary>
    public void DisconnectStreamsAfterEvents(string apiKey, int events) => Stream.DisconnectAfter(apiKey, events);

    /// <summary>Waits until at least <paramref name="count"/> open connections carry a live key of the account.</summary>
    public Task WaitForStreamConnectionsAsync(string apiKey, int count, TimeSpan timeout, CancellationToken cancellationToken = default) =>
        Stream.Changed.WaitAsync(
            () => StreamConnections.Count(c => c.LiveApiKeys.Contains(apiKey)) >= count ? string.Empty : null,
            timeout,
            $"{count} stream connection(s)",
            cancellationToken);

    /// <summary>Waits until the open connections satisfy <paramref name="condition"/> (checked on every connect, disconnect and key expiry).</summary>
    public Task WaitForStreamConnectionsAsync(Func<IReadOnlyList<FakeStreamConnection>, bool> condition, TimeSpan timeout, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(condition);
        return Stream.Changed.WaitAsync(() => condition(StreamConnections) ? string.Empty : null, timeout, "a stream connection condition", cancellationToken);
    }

    /// <summary>Clears <see cref="Requests"/> (not <see cref="WriteAttempts"/>).</summary>
    public void ResetRequestLog() => _log.Reset();

    /// <summary>Waits until a request matching <paramref name="match"/> has been recorded (one already in the log counts).</summary>
    public Task<FakeRequestRecord> WaitForRequestAsync(Func<FakeRequestRecord, bool> match, TimeSpan timeout, CancellationToken cancellationToken = default) =>
        _log.Changed.WaitAsync(() => _log.Requests.FirstOrDefault(match), timeout, "a matching request", cancellationToken);

    /// <summary>Waits until the account has at least <paramref name="count"/> valid rows (for example from a generator).</summary>
    public Task WaitForValidTradeCountAsync(string apiKey, int count, TimeSpan timeout, CancellationToken cancellationToken = default) =>
        _tradesChanged.WaitAsync(() => ValidTradeCount(apiKey) >= count ? string.Empty : null, timeout, $"{count} valid trades", cancellationToken);

    /// <summary>Keeps generating <paramref name="countPerTick"/> trade ids per symbol every <paramref name="interval"/> until the
    /// returned generator or this exchange is disposed.</summary>
    public FakeTradeGenerator StartGenerator(string apiKey, IReadOnlyList<string> symbols, TimeSpan interval, int countPerTick, int seed, double selfTradePairFraction = 0)
    {
        if (!_book.HasAccount(apiKey))
        {
            throw new KeyNotFoundException("No account with this API key was added to the fake exchange.");
        }

        var generator = new FakeTradeGenerator(this, apiKey, symbols, interval, countPerTick, seed, selfTradePairFraction, _options.TimeProvider, _logger);
        lock (_generators)
        {
            _generators.Add(generator);
        }

        return generator;
    }

    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) == 1)
        {
            return;
        }

        await _stopping.CancelAsync().ConfigureAwait(false);
        FakeTradeGenerator[] generators;
        lock (_generators)
        {
            generators = [.. _generators];
        }

        foreach (var generator in generators)
        {
            await generator.DisposeAsync().ConfigureAwait(false);
        }

        await _app.StopAsync().ConfigureAwait(false);
        await _app.DisposeAsync().ConfigureAwait(false);
        await Stream.Completion.ConfigureAwait(false);
        _stopping.Dispose();
    }

    internal long HistoryFloorMs() => (ServerTime - _options.MaxHistory).ToUnixTimeMilliseconds();

    private static void Validate(FakeExchangeOptions options)
    {
        var problem =
            options.WeightLimitPerMinute < 1 ? "WeightLimitPerMinute must be at least 1."
            : options.BanAfterRequestsWhileLimited < 0 ? "BanAfterRequestsWhileLimited must not be negative."
            : options.BanDuration <= TimeSpan.Zero ? "BanDuration must be positive."
            : options.MaxRecentWindow <= TimeSpan.Zero || options.MaxQueryWindow <= TimeSpan.Zero || options.MaxHistory <= TimeSpan.Zero ? "Time windows must be positive."
            : options.OversizedBodyBytes < 1024 ? "OversizedBodyBytes must be at least 1024."
            : options.MaxLoggedRequests < 1 ? "MaxLoggedRequests must be at least 1."
            : options.ListenKeyValidity <= TimeSpan.Zero ? "ListenKeyValidity must be positive."
            : options.StreamPingInterval < TimeSpan.Zero ? "StreamPingInterval must not be negative."
            : options.StreamPongTimeout <= TimeSpan.Zero ? "StreamPongTimeout must be positive."
            : options.StreamMaxConnectionLifetime <= TimeSpan.Zero ? "StreamMaxConnectionLifetime must be positive."
            : options.StreamHousekeepingInterval <= TimeSpan.Zero ? "StreamHousekeepingInterval must be positive."
            : options.StreamReorderHoldLimit <= TimeSpan.Zero ? "StreamReorderHoldLimit must be positive."
            : options.RandomFaults.Validate("RandomFaults");
        if (problem is not null)
        {
            throw new ArgumentException(problem, nameof(options));
        }
    }

    private async Task HandleAsync(HttpContext context)
    {
        var path = context.Request.Path.Value ?? "/";
        if (ControlApi.Handles(path))
        {
            await Control.HandleAsync(context).ConfigureAwait(false);
            return;
        }

        if (StreamHub.Handles(path))
        {
            await Stream.HandleAsync(context, path).ConfigureAwait(false);
            return;
        }

        await Endpoints.HandleAsync(context, path).ConfigureAwait(false);
    }
}

/// <summary>A host lifetime that does nothing: no console messages, no signal handlers.</summary>
internal sealed class EmbeddedLifetime : IHostLifetime
{
    public Task WaitForStartAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}
