using System.Buffers;
using System.Net.WebSockets;

namespace Grinder.Grains.Binance.Stream;

/// <summary>How a session ended.</summary>
/// <param name="KeyExpired">The server sent listenKeyExpired: this key gets no more events, POST a new one.</param>
internal sealed record SessionEnd(string Reason, bool KeyExpired);

/// <summary>One open WebSocket and its receive loop. A receive is always pending while it runs: ClientWebSocket answers the
/// server's pings (RFC 6455 pong) only from inside ReceiveAsync, so a client that stops reading gets dropped.</summary>
internal sealed class StreamSession : IAsyncDisposable
{
    private static readonly TimeSpan CloseTimeout = TimeSpan.FromSeconds(5);

    private readonly ClientWebSocket _socket;
    private readonly CancellationTokenSource _stop = new();
    private volatile bool _closing;

    private StreamSession(ClientWebSocket socket, DateTimeOffset openedAt)
    {
        _socket = socket;
        OpenedAt = openedAt;
    }

    public DateTimeOffset OpenedAt { get; }

    public Task<SessionEnd> Completion { get; private set; } = null!;

    /// <summary>Opens the WebSocket. Returns the session, or the HTTP status (0 when there was no HTTP answer) and a reason.</summary>
    /// <param name="onMessage">Called with each complete text message; returns false to end the session as
    /// <see cref="SessionEnd.KeyExpired"/>.</param>
    /// <param name="redact">Removes the key from text that came from outside (exception messages).</param>
    public static async Task<(StreamSession? Session, int Status, string? Error)> OpenAsync(
        Uri url,
        UserDataStreamOptions options,
        TimeProvider time,
        Func<ReadOnlyMemory<byte>, bool> onMessage,
        Action<string> onOversized,
        Func<string, string> redact,
        CancellationToken cancellationToken)
    {
        var socket = new ClientWebSocket();
        socket.Options.CollectHttpResponseDetails = true;

        // Liveness: our own pings, and a deadline for their pongs (see UserDataStreamOptions.SilenceLimit).
        socket.Options.KeepAliveInterval = options.SilenceLimit / 2;
        socket.Options.KeepAliveTimeout = options.SilenceLimit / 2;
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(options.ConnectTimeout);
        try
        {
            await socket.ConnectAsync(url, timeout.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            socket.Dispose();
            return (null, 0, $"handshake timed out after {options.ConnectTimeout}");
        }
        catch (Exception ex) when (ex is WebSocketException or HttpRequestException or IOException)
        {
            var status = (int)socket.HttpStatusCode;
            socket.Dispose();
            return (null, status, redact(status != 0 ? $"handshake refused with HTTP {status}" : "handshake failed: " + ex.Message));
        }
        catch
        {
            socket.Dispose();
            throw;
        }

        var session = new StreamSession(socket, time.GetUtcNow());
        session.Completion = session.ReceiveAsync(options.MaxMessageBytes, onMessage, onOversized, redact);
        return (session, 101, null);
    }

    /// <summary>Closes with a close frame (waiting briefly for the server's answer), then ends the receive loop.</summary>
    public async Task CloseAsync(string reason)
    {
        _closing = true;
        if (_socket.State == WebSocketState.Open)
        {
            using var timeout = new CancellationTokenSource(CloseTimeout);
            try
            {
                await _socket.CloseOutputAsync(WebSocketCloseStatus.NormalClosure, reason, timeout.Token).ConfigureAwait(false);
                await Completion.WaitAsync(CloseTimeout).ConfigureAwait(false);
            }
            catch (Exception ex) when (ex is WebSocketException or OperationCanceledException or TimeoutException or ObjectDisposedException)
            {
                // Gone already, or did not answer in time: the abort below ends it.
            }
        }

        await _stop.CancelAsync().ConfigureAwait(false);
        await Completion.ConfigureAwait(false);
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync().ConfigureAwait(false);
        await Completion.ConfigureAwait(false);
        _socket.Dispose();
        _stop.Dispose();
    }

    private async Task<SessionEnd> ReceiveAsync(int maxBytes, Func<ReadOnlyMemory<byte>, bool> onMessage, Action<string> onOversized, Func<string, string> redact)
    {
        var buffer = ArrayPool<byte>.Shared.Rent(maxBytes);
        try
        {
            while (true)
            {
                var length = 0;
                var oversized = false;
                WebSocketReceiveResult result;
                do
                {
                    var room = buffer.AsMemory(oversized ? 0 : length, oversized ? buffer.Length : buffer.Length - length);
                    if (room.IsEmpty)
                    {
                        // Too big for an event: read the rest of it into the same buffer and drop it.
                        oversized = true;
                        room = buffer;
                    }

                    var read = await _socket.ReceiveAsync(room, _stop.Token).ConfigureAwait(false);
                    if (read.MessageType == WebSocketMessageType.Close)
                    {
                        if (_closing)
                        {
                            return new SessionEnd("closed by the client", false);
                        }

                        var status = _socket.CloseStatus is { } code ? ((int)code).ToString(System.Globalization.CultureInfo.InvariantCulture) : "none";
                        return new SessionEnd(redact($"closed by the server ({status} {_socket.CloseStatusDescription})".TrimEnd()), false);
                    }

                    result = new WebSocketReceiveResult(read.Count, read.MessageType, read.EndOfMessage);
                    if (!oversized)
                    {
                        length += read.Count;
                    }
                }
                while (!result.EndOfMessage);

                if (oversized)
                {
                    onOversized($"message larger than {maxBytes} bytes");
                    continue;
                }

                if (result.MessageType == WebSocketMessageType.Text && !onMessage(buffer.AsMemory(0, length)))
                {
                    return new SessionEnd("listenKey expired", true);
                }
            }
        }
        catch (Exception ex) when (_stop.IsCancellationRequested || (_closing && ex is WebSocketException))
        {
            return new SessionEnd("closed by the client", false);
        }
        catch (Exception ex) when (ex is WebSocketException or IOException or OperationCanceledException)
        {
            // A reset, a server that stopped answering our pings (keep-alive timeout), or an abort.
            return new SessionEnd(redact("connection lost: " + ex.Message), false);
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }
}
