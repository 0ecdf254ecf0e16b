using System.Net.WebSockets;
using System.Threading.Channels;

namespace Grinder.FakeBinance;

/// <summary>One listenKey subscription of a connection. <see cref="Live"/> turns false when the key expires: Binance sends
/// listenKeyExpired and then no more events for it on that connection.</summary>
internal sealed class StreamSubscription(string listenKey, string apiKey, IReadOnlySet<string>? events)
{
    public string ListenKey { get; } = listenKey;

    public string ApiKey { get; } = apiKey;

    /// <summary>Subscribed event names; null means every event.</summary>
    public IReadOnlySet<string>? Events { get; } = events;

    public bool Live { get; set; } = true;

    public bool Wants(string eventName) => Events is null || Events.Contains(eventName);
}

/// <summary>One accepted WebSocket: an outbox drained by a single sender (a WebSocket allows one send at a time), and a receive
/// loop that keeps control frames (pong, close) flowing, as the keep-alive timeout needs.</summary>
internal sealed class StreamConnection(long id, string path, bool combined, WebSocket socket, IReadOnlyList<StreamSubscription> subscriptions, DateTimeOffset connectedAt)
{
    private readonly Channel<Outgoing> _outbox = Channel.CreateUnbounded<Outgoing>(new UnboundedChannelOptions { SingleReader = true });
    private long _sent;
    private bool _ending;

    public long Id { get; } = id;

    public string Path { get; } = path;

    public bool Combined { get; } = combined;

    /// <summary>Mutated (<see cref="StreamSubscription.Live"/>) only under the hub's lock.</summary>
    public IReadOnlyList<StreamSubscription> Subscriptions { get; } = subscriptions;

    public DateTimeOffset ConnectedAt { get; } = connectedAt;

    public long Sent => Interlocked.Read(ref _sent);

    /// <summary>Set once a close or abort is queued, or the peer is gone: nothing queued after it is sent.</summary>
    public bool Ending
    {
        get => Volatile.Read(ref _ending);
        private set => Volatile.Write(ref _ending, value);
    }

    /// <summary>Queues a text message: the payload as is, or wrapped for <paramref name="listenKey"/> on a combined connection.</summary>
    public void Send(string listenKey, byte[] payload)
    {
        if (!Ending)
        {
            _outbox.Writer.TryWrite(new Outgoing(Combined ? StreamEvents.Wrap(listenKey, payload) : payload, null, false));
        }
    }

    /// <summary>Ends the connection after the messages already queued: with a close frame, or abruptly (no close handshake, as a
    /// dropped TCP connection looks to the client).</summary>
    public void End(bool abort, WebSocketCloseStatus status = WebSocketCloseStatus.EndpointUnavailable, string reason = "")
    {
        if (Ending)
        {
            return;
        }

        Ending = true;
        _outbox.Writer.TryWrite(new Outgoing(null, abort ? null : (status, reason), abort));
        _outbox.Writer.TryComplete();
    }

    /// <summary>Runs until the connection is closed or aborted, or <paramref name="stopping"/> fires.</summary>
    public async Task RunAsync(TimeSpan closeHandshakeTimeout, CancellationToken stopping)
    {
        using var cancel = CancellationTokenSource.CreateLinkedTokenSource(stopping);
        var receive = ReceiveAsync(cancel.Token);
        try
        {
            await SendLoopAsync(closeHandshakeTimeout, receive, cancel.Token).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is WebSocketException or OperationCanceledException or IOException)
        {
            // The peer went away or the fake is stopping.
        }
        finally
        {
            Ending = true;
            _outbox.Writer.TryComplete();

            // Dispose, not Abort: the request then ends normally and Kestrel closes the TCP connection with a FIN after the bytes
            // already written, where an abort resets it and the client's kernel throws away events it had not read yet.
            socket.Dispose();
            await cancel.CancelAsync().ConfigureAwait(false);
            try
            {
                await receive.ConfigureAwait(false);
            }
            catch (Exception ex) when (ex is WebSocketException or OperationCanceledException or IOException or ObjectDisposedException)
            {
                // Ended above.
            }
        }
    }

    private async Task SendLoopAsync(TimeSpan closeHandshakeTimeout, Task receive, CancellationToken cancellationToken)
    {
        await foreach (var message in _outbox.Reader.ReadAllAsync(cancellationToken).ConfigureAwait(false))
        {
            if (message.Abort)
            {
                // No close frame: to the client this is a lost connection.
                return;
            }

            if (message.Close is { } close)
            {
                await socket.CloseOutputAsync(close.Status, close.Reason, cancellationToken).ConfigureAwait(false);

                // Give the client the time to answer the close frame, then drop it.
                await receive.WaitAsync(closeHandshakeTimeout, cancellationToken).ConfigureAwait(false);
                return;
            }

            await socket.SendAsync(message.Payload!, WebSocketMessageType.Text, endOfMessage: true, cancellationToken).ConfigureAwait(false);
            Interlocked.Increment(ref _sent);
        }
    }

    private async Task ReceiveAsync(CancellationToken cancellationToken)
    {
        var buffer = new byte[4096];
        try
        {
            while (true)
            {
                // Client messages are ignored (the fake has no subscribe API on these paths); reading keeps pongs and close flowing.
                var result = await socket.ReceiveAsync(buffer, cancellationToken).ConfigureAwait(false);
                if (result.MessageType == WebSocketMessageType.Close)
                {
                    // The client closes: answer through the sender, the only one allowed to send.
                    End(abort: false, WebSocketCloseStatus.NormalClosure);
                    return;
                }
            }
        }
        catch (Exception ex) when (ex is WebSocketException or OperationCanceledException or IOException or ObjectDisposedException)
        {
            // Reset by the peer, aborted after a missed pong (keep-alive timeout), or stopping: the sender has nothing left to do.
            Ending = true;
            _outbox.Writer.TryComplete();
        }
    }

    private sealed record Outgoing(byte[]? Payload, (WebSocketCloseStatus Status, string Reason)? Close, bool Abort);
}
