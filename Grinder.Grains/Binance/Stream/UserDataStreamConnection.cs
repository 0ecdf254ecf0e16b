using System.Threading.Channels;
using Grinder.Grains.Logging;
using Microsoft.Extensions.Logging;

namespace Grinder.Grains.Binance.Stream;

/// <summary>
/// One account's USD-M user data stream: gets the listenKey (POST), opens <c>/private/ws?listenKey=..&amp;events=ORDER_TRADE_UPDATE</c>,
/// keeps the key alive (PUT every <see cref="UserDataStreamOptions.ListenKeyKeepAlive"/>), replaces the connection before
/// Binance's 24 h limit (the new one opens before the old one closes), reconnects with backoff and jitter, treats a server that
/// stops answering pings as dead, and POSTs again on -1125 or listenKeyExpired. It never DELETEs the key: the key is shared
/// with the customer's own bots.
/// </summary>
/// <remarks>Events arrive through <see cref="Events"/> in order: fills, rejected fill events, and connection changes (a
/// <see cref="StreamConnected"/> after a gap means events may have been missed, so REST must reconcile). Nothing here logs the
/// listenKey, the URL that carries it, or the API key. Orleans-free: the account grain owns one and disposes it.</remarks>
public sealed partial class UserDataStreamConnection : IAsyncDisposable
{
    private readonly ListenKeyClient _keys;
    private readonly BinanceCredentials _credentials;
    private readonly string _account;
    private readonly Uri _streamUrl;
    private readonly UserDataStreamOptions _options;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly ReconnectBackoff _backoff;
    private readonly Channel<UserDataStreamEvent> _events = Channel.CreateUnbounded<UserDataStreamEvent>(new UnboundedChannelOptions { SingleReader = true });
    private readonly CancellationTokenSource _stop = new();
    private readonly Lock _gate = new();
    private Task? _run;
    private UserDataStreamState _state = UserDataStreamState.Stopped;
    private DateTimeOffset? _connectedSince;
    private DateTimeOffset? _lastMessageAt;
    private long _reconnects;
    private long _attempts;
    private long _opened;
    private string? _lastError;
    private string? _currentKey;
    private int _disposed;

    /// <param name="account">The account's id for logs (never its key).</param>
    /// <param name="streamUrl">Root of the WebSocket API, e.g. <c>wss://fstream.binance.com</c>.</param>
    public UserDataStreamConnection(
        ListenKeyClient keys,
        BinanceCredentials credentials,
        string account,
        Uri streamUrl,
        UserDataStreamOptions options,
        TimeProvider time,
        ILogger logger,
        Random? random = null)
    {
        ArgumentNullException.ThrowIfNull(keys);
        ArgumentNullException.ThrowIfNull(credentials);
        ArgumentException.ThrowIfNullOrEmpty(account);
        ArgumentNullException.ThrowIfNull(streamUrl);
        ArgumentNullException.ThrowIfNull(options);
        if (new UserDataStreamOptionsValidator().Validate(null, options) is { Failed: true } invalid)
        {
            throw new ArgumentException(invalid.FailureMessage, nameof(options));
        }

        _keys = keys;
        _credentials = credentials;
        _account = account;
        _streamUrl = streamUrl;
        _options = options;
        _time = time;
        _logger = logger;
        _backoff = new ReconnectBackoff(options.ReconnectBaseDelay, options.ReconnectMaxDelay, random ?? Random.Shared);
    }

    public ChannelReader<UserDataStreamEvent> Events => _events.Reader;

    public UserDataStreamHealth Health
    {
        get
        {
            lock (_gate)
            {
                return new UserDataStreamHealth(_state, _connectedSince, _lastMessageAt, _reconnects, _attempts, _lastError);
            }
        }
    }

    /// <summary>Starts connecting in the background; events flow until <see cref="DisposeAsync"/>.</summary>
    public void Start()
    {
        ObjectDisposedException.ThrowIf(Volatile.Read(ref _disposed) == 1, this);
        lock (_gate)
        {
            if (_run is not null)
            {
                throw new InvalidOperationException("The stream was started already.");
            }

            _state = UserDataStreamState.Connecting;
            _run = Task.Run(() => RunAsync(_stop.Token));
        }
    }

    /// <summary>Closes the connection (a close frame, no DELETE of the key) and completes <see cref="Events"/>.</summary>
    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) == 1)
        {
            return;
        }

        await _stop.CancelAsync().ConfigureAwait(false);
        Task? run;
        lock (_gate)
        {
            run = _run;
        }

        if (run is not null)
        {
            await run.ConfigureAwait(false);
        }

        SetState(UserDataStreamState.Stopped);
        _events.Writer.TryComplete();
        _stop.Dispose();
    }

    private async Task RunAsync(CancellationToken cancellationToken)
    {
        var failures = 0;
        while (!cancellationToken.IsCancellationRequested)
        {
            try
            {
                await RunConnectionsAsync(failures, cancellationToken).ConfigureAwait(false);
                return;
            }
            catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
            {
                return;
            }
            catch (Exception ex)
            {
                // A bug or an unforeseen fault must not end the stream for good: REST covers while it backs off and starts over.
                failures++;
                var delay = _backoff.Delay(failures);
                RecordError("unexpected: " + Redact(ex.GetType().Name + ": " + ex.Message));
                LogUnexpected(_logger, new RedactedException(ex, Redact), _account, delay);
                SetState(UserDataStreamState.Backoff);
                try
                {
                    await Task.Delay(delay, _time, cancellationToken).ConfigureAwait(false);
                }
                catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
                {
                    return;
                }
            }
        }
    }

    private async Task RunConnectionsAsync(int failures, CancellationToken cancellationToken)
    {
        string? key = null;
        var keepAliveDue = DateTimeOffset.MinValue;
        try
        {
            while (!cancellationToken.IsCancellationRequested)
            {
                var delay = _backoff.Delay(failures);
                if (delay > TimeSpan.Zero)
                {
                    SetState(UserDataStreamState.Backoff);
                    await Task.Delay(delay, _time, cancellationToken).ConfigureAwait(false);
                }

                SetState(UserDataStreamState.Connecting);
                if (key is null)
                {
                    var created = await _keys.CreateAsync(_credentials, cancellationToken).ConfigureAwait(false);
                    if (created.ListenKey is not { Length: > 0 } fresh)
                    {
                        failures++;
                        var detail = created.ErrorDetail ?? "no listenKey in the answer";
                        RecordError("listenKey: " + detail);
                        LogListenKeyFailed(_logger, _account, detail, _backoff.Delay(failures));
                        continue;
                    }

                    key = fresh;
                    lock (_gate)
                    {
                        _currentKey = key;
                    }

                    keepAliveDue = _time.GetUtcNow() + _options.ListenKeyKeepAlive;
                }

                var (session, status, error) = await OpenAsync(key, cancellationToken).ConfigureAwait(false);
                if (session is null)
                {
                    failures++;

                    // 400 is how the exchange refuses a key it does not know (-1125): get the active key again.
                    if (status == 400)
                    {
                        key = null;
                    }

                    RecordError(error!);
                    LogConnectFailed(_logger, _account, error!, _backoff.Delay(failures));
                    continue;
                }

                Connected(renewal: false);
                var (ended, end, keyGone, endedAt, nextKeepAlive) = await SuperviseAsync(session, key, keepAliveDue, cancellationToken).ConfigureAwait(false);
                keepAliveDue = nextKeepAlive;
                await ended.DisposeAsync().ConfigureAwait(false);
                if (cancellationToken.IsCancellationRequested)
                {
                    break;
                }

                Disconnected(end.Reason);
                if (end.KeyExpired || keyGone)
                {
                    LogListenKeyExpired(_logger, _account, end.KeyExpired ? "listenKeyExpired event" : "keep-alive answered -1125");
                    key = null;
                }

                // A connection that worked reconnects at once; one that dies right after opening backs off.
                failures = endedAt - ended.OpenedAt < _options.StableAfter && !end.KeyExpired && !keyGone ? failures + 1 : 0;
            }
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            // Disposed.
        }
    }

    /// <summary>Watches one connection until it ends: keep-alive PUTs when due, and the replacement before the 24 h limit.
    /// Returns the session that finally ended (a renewal swaps it), why, whether the key is gone, and the next keep-alive.</summary>
    private async Task<(StreamSession Session, SessionEnd End, bool KeyGone, DateTimeOffset EndedAt, DateTimeOffset KeepAliveDue)> SuperviseAsync(
        StreamSession session, string key, DateTimeOffset keepAliveDue, CancellationToken cancellationToken)
    {
        var current = new[] { session };
        try
        {
            return await SuperviseCoreAsync(current, key, keepAliveDue, cancellationToken).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            // Stopped in the middle of a keep-alive or a renewal: close what is open.
            await current[0].CloseAsync("stopping").ConfigureAwait(false);
            return (current[0], await current[0].Completion.ConfigureAwait(false), false, _time.GetUtcNow(), keepAliveDue);
        }
    }

    /// <param name="current">Holds the session being watched; a renewal replaces it, so the caller can close the right one.</param>
    private async Task<(StreamSession Session, SessionEnd End, bool KeyGone, DateTimeOffset EndedAt, DateTimeOffset KeepAliveDue)> SuperviseCoreAsync(
        StreamSession[] current, string key, DateTimeOffset keepAliveDue, CancellationToken cancellationToken)
    {
        var session = current[0];
        var renewalFailures = 0;
        var renewAt = session.OpenedAt + _options.Renewal;
        while (true)
        {
            var now = _time.GetUtcNow();
            var wakeAt = keepAliveDue < renewAt ? keepAliveDue : renewAt;
            using (var wake = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken))
            {
                var timer = Task.Delay(wakeAt > now ? wakeAt - now : TimeSpan.Zero, _time, wake.Token);
                var first = await Task.WhenAny(session.Completion, timer).ConfigureAwait(false);
                await wake.CancelAsync().ConfigureAwait(false);
                if (first == session.Completion)
                {
                    return (session, await session.Completion.ConfigureAwait(false), false, _time.GetUtcNow(), keepAliveDue);
                }
            }

            if (cancellationToken.IsCancellationRequested)
            {
                await session.CloseAsync("stopping").ConfigureAwait(false);
                return (session, await session.Completion.ConfigureAwait(false), false, _time.GetUtcNow(), keepAliveDue);
            }

            now = _time.GetUtcNow();
            if (now >= keepAliveDue)
            {
                var kept = await _keys.KeepAliveAsync(_credentials, cancellationToken).ConfigureAwait(false);
                if (kept.KeyMissing)
                {
                    // The key is gone: this connection gets nothing more. Close it; the caller POSTs and reconnects at once.
                    await session.CloseAsync("listenKey gone").ConfigureAwait(false);
                    return (session, await session.Completion.ConfigureAwait(false), true, _time.GetUtcNow(), keepAliveDue);
                }

                if (kept.IsSuccess)
                {
                    keepAliveDue = now + _options.ListenKeyKeepAlive;
                }
                else
                {
                    // A transient failure: the key still has most of its 60 minutes; try again soon.
                    keepAliveDue = now + _options.ListenKeyRetry;
                    RecordError("listenKey keep-alive: " + kept.ErrorDetail);
                    LogListenKeyFailed(_logger, _account, kept.ErrorDetail ?? "keep-alive failed", _options.ListenKeyRetry);
                }
            }

            if (now >= renewAt)
            {
                // Make before break: the new connection is open before the old one closes, so no event falls between them
                // (one may arrive on both; the ledger's key makes that harmless).
                var (next, _, error) = await OpenAsync(key, cancellationToken).ConfigureAwait(false);
                if (next is null)
                {
                    renewalFailures++;
                    var retry = _backoff.Delay(renewalFailures);
                    renewAt = now + retry;
                    RecordError("renewal: " + error);
                    LogConnectFailed(_logger, _account, "renewal: " + error, retry);
                    continue;
                }

                var old = session;
                session = next;
                current[0] = next;
                renewalFailures = 0;
                renewAt = session.OpenedAt + _options.Renewal;
                Connected(renewal: true);
                await old.CloseAsync("renewal").ConfigureAwait(false);
                await old.DisposeAsync().ConfigureAwait(false);
            }
        }
    }

    private async Task<(StreamSession? Session, int Status, string? Error)> OpenAsync(string key, CancellationToken cancellationToken)
    {
        lock (_gate)
        {
            _attempts++;
        }

        // The USD-M private endpoint; the legacy /ws/<key> form was retired in 2026 (Binance announcement).
        var url = new Uri(_streamUrl.AbsoluteUri.TrimEnd('/') + "/private/ws?listenKey=" + Uri.EscapeDataString(key) + "&events=ORDER_TRADE_UPDATE");
        return await StreamSession.OpenAsync(url, _options, _time, OnMessage, OnOversized, Redact, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Returns false on listenKeyExpired, which ends the session.</summary>
    private bool OnMessage(ReadOnlyMemory<byte> message)
    {
        lock (_gate)
        {
            _lastMessageAt = _time.GetUtcNow();
        }

        var parsed = OrderTradeUpdateParser.Parse(message.Span);
        switch (parsed.Kind)
        {
            case StreamMessageKind.Fill:
                _events.Writer.TryWrite(new StreamFill(parsed.Trade!, parsed.EventTimeMs));
                return true;
            case StreamMessageKind.Rejected or StreamMessageKind.Malformed:
                _events.Writer.TryWrite(new StreamRejected(parsed.Rejected!));
                return true;
            case StreamMessageKind.ListenKeyExpired:
                return false;
            default:
                return true;
        }
    }

    private void OnOversized(string reason) =>
        _events.Writer.TryWrite(new StreamRejected(new RejectedRow(string.Empty, null, null, reason, string.Empty)));

    /// <summary>Blanks the current key (and the API key) in text that came from outside, such as exception messages.</summary>
    private string Redact(string text)
    {
        string? key;
        lock (_gate)
        {
            key = _currentKey;
        }

        text = string.IsNullOrEmpty(key) ? text : text.Replace(key, "***", StringComparison.Ordinal);
        return string.IsNullOrEmpty(_credentials.ApiKey) ? text : text.Replace(_credentials.ApiKey, "***", StringComparison.Ordinal);
    }

    private void Connected(bool renewal)
    {
        var now = _time.GetUtcNow();
        lock (_gate)
        {
            if (_opened++ > 0)
            {
                _reconnects++;
            }

            _state = UserDataStreamState.Connected;
            _connectedSince = now;
        }

        LogConnected(_logger, _account, renewal);
        _events.Writer.TryWrite(new StreamConnected(now, renewal));
    }

    private void Disconnected(string reason)
    {
        var now = _time.GetUtcNow();
        lock (_gate)
        {
            _state = UserDataStreamState.Connecting;
            _connectedSince = null;
            _lastError = reason;
        }

        LogDisconnected(_logger, _account, reason);
        _events.Writer.TryWrite(new StreamDisconnected(now, reason));
    }

    private void RecordError(string error)
    {
        lock (_gate)
        {
            _lastError = error;
        }
    }

    private void SetState(UserDataStreamState state)
    {
        lock (_gate)
        {
            _state = state;
        }
    }

    [LoggerMessage(EventId = LogEvents.Stream.StreamConnected, EventName = "STREAM_CONNECTED", Level = LogLevel.Information,
        Message = "STREAM_CONNECTED account={Account} renewal={Renewal}")]
    private static partial void LogConnected(ILogger logger, string account, bool renewal);

    [LoggerMessage(EventId = LogEvents.Stream.StreamDisconnected, EventName = "STREAM_DISCONNECTED", Level = LogLevel.Warning,
        Message = "STREAM_DISCONNECTED account={Account}: {Reason}")]
    private static partial void LogDisconnected(ILogger logger, string account, string reason);

    [LoggerMessage(EventId = LogEvents.Stream.StreamConnectFailed, EventName = "STREAM_CONNECT_FAILED", Level = LogLevel.Warning,
        Message = "STREAM_CONNECT_FAILED account={Account}: {Detail}; next attempt in {Delay}")]
    private static partial void LogConnectFailed(ILogger logger, string account, string detail, TimeSpan delay);

    [LoggerMessage(EventId = LogEvents.Stream.StreamListenKeyFailed, EventName = "STREAM_LISTEN_KEY_FAILED", Level = LogLevel.Warning,
        Message = "STREAM_LISTEN_KEY_FAILED account={Account}: {Detail}; next attempt in {Delay}")]
    private static partial void LogListenKeyFailed(ILogger logger, string account, string detail, TimeSpan delay);

    // The exception itself is not logged: its message could carry the URL, and so the key. Its type is enough to find it.
    [LoggerMessage(EventId = LogEvents.Stream.StreamUnexpected, EventName = "STREAM_UNEXPECTED", Level = LogLevel.Error,
        Message = "STREAM_UNEXPECTED in the stream of account={Account}; starting over in {Delay}")]
    private static partial void LogUnexpected(ILogger logger, Exception exception, string account, TimeSpan delay);

    [LoggerMessage(EventId = LogEvents.Stream.StreamListenKeyExpired, EventName = "STREAM_LISTEN_KEY_EXPIRED", Level = LogLevel.Information,
        Message = "STREAM_LISTEN_KEY_EXPIRED account={Account} ({How}): getting the active key again")]
    private static partial void LogListenKeyExpired(ILogger logger, string account, string how);
}
