using System.Net.Sockets;
using System.Net.WebSockets;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Grinder.FakeBinance;

namespace Grinder.Tests.FakeBinance;

/// <summary>listenKey calls as Binance documents them: API key header only, no signature.</summary>
public static class ListenKeys
{
    public static Task<HttpResponseMessage> SendAsync(HttpClient http, HttpMethod method, string? apiKey, string query = "")
    {
        var request = new HttpRequestMessage(method, "fapi/v1/listenKey" + (query.Length > 0 ? "?" + query : string.Empty));
        if (apiKey is not null)
        {
            request.Headers.Add("X-MBX-APIKEY", apiKey);
        }

        return http.SendAsync(request);
    }

    public static async Task<string> PostAsync(HttpClient http, string apiKey)
    {
        var response = await SendAsync(http, HttpMethod.Post, apiKey);
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(response.IsSuccessStatusCode, $"POST listenKey: {(int)response.StatusCode} {body}");
        return JsonDocument.Parse(body).RootElement.GetProperty("listenKey").GetString()!;
    }

    public static Uri SingleUrl(FakeExchange exchange, string listenKey, string events = "ORDER_TRADE_UPDATE") =>
        new(exchange.StreamBaseUrl, $"private/ws?listenKey={listenKey}&events={events}");
}

/// <summary>A ClientWebSocket reading JSON text messages; a closed or dropped connection reads as null.</summary>
public sealed class StreamClient : IAsyncDisposable
{
    private readonly ClientWebSocket _socket;

    private StreamClient(ClientWebSocket socket)
    {
        _socket = socket;
    }

    public WebSocketState State => _socket.State;

    public WebSocketCloseStatus? CloseStatus => _socket.CloseStatus;

    /// <summary>True when the last read ended because the server dropped the connection without a close frame.</summary>
    public bool Dropped { get; private set; }

    /// <param name="keepAlive">The client's own keep-alive; zero so only the server's pings (answered automatically) flow.</param>
    public static async Task<StreamClient> ConnectAsync(Uri url, TimeSpan? keepAlive = null)
    {
        var socket = new ClientWebSocket();
        socket.Options.KeepAliveInterval = keepAlive ?? TimeSpan.Zero;
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        await socket.ConnectAsync(url, timeout.Token);
        return new StreamClient(socket);
    }

    /// <summary>The HTTP status of a refused handshake.</summary>
    public static async Task<int> RefusedStatusAsync(Uri url)
    {
        using var socket = new ClientWebSocket();
        socket.Options.CollectHttpResponseDetails = true;
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        await Assert.ThrowsAsync<WebSocketException>(() => socket.ConnectAsync(url, timeout.Token));
        return (int)socket.HttpStatusCode;
    }

    /// <summary>The next message, or null when the connection ended. Throws <see cref="TimeoutException"/> when nothing came.</summary>
    public async Task<JsonElement?> ReceiveAsync(TimeSpan timeout)
    {
        using var cancel = new CancellationTokenSource(timeout);
        var buffer = new byte[64 * 1024];
        using var message = new MemoryStream();
        try
        {
            while (true)
            {
                var result = await _socket.ReceiveAsync(buffer, cancel.Token);
                if (result.MessageType == WebSocketMessageType.Close)
                {
                    return null;
                }

                message.Write(buffer, 0, result.Count);
                if (result.EndOfMessage)
                {
                    return JsonDocument.Parse(message.ToArray()).RootElement.Clone();
                }
            }
        }
        catch (OperationCanceledException) when (cancel.IsCancellationRequested)
        {
            throw new TimeoutException($"No stream message within {timeout}.");
        }
        catch (WebSocketException)
        {
            Dropped = true;
            return null;
        }
    }

    /// <summary>Reads <paramref name="count"/> messages; fails when the connection ends first.</summary>
    public async Task<List<JsonElement>> ReceiveManyAsync(int count, TimeSpan timeout)
    {
        var messages = new List<JsonElement>(count);
        while (messages.Count < count)
        {
            var message = await ReceiveAsync(timeout) ?? throw new InvalidOperationException($"The stream ended after {messages.Count} of {count} messages.");
            messages.Add(message);
        }

        return messages;
    }

    /// <summary>Reads until the connection ends; returns what came before.</summary>
    public async Task<List<JsonElement>> ReceiveUntilEndAsync(TimeSpan timeout)
    {
        var messages = new List<JsonElement>();
        while (await ReceiveAsync(timeout) is { } message)
        {
            messages.Add(message);
        }

        return messages;
    }

    public async ValueTask DisposeAsync()
    {
        if (_socket.State == WebSocketState.Open)
        {
            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(5));
            try
            {
                await _socket.CloseAsync(WebSocketCloseStatus.NormalClosure, "done", timeout.Token);
            }
            catch (Exception ex) when (ex is WebSocketException or OperationCanceledException)
            {
                // The server went first.
            }
        }

        _socket.Dispose();
    }

    /// <summary>(symbol, trade id, side) of an ORDER_TRADE_UPDATE payload.</summary>
    public static FakeTradeKey KeyOf(JsonElement payload)
    {
        var o = payload.GetProperty("o");
        return new FakeTradeKey(o.GetProperty("s").GetString()!, o.GetProperty("t").GetInt64(), o.GetProperty("S").GetString()!);
    }
}

/// <summary>A WebSocket client on a bare TCP socket (RFC 6455 by hand), so a test sees the server's ping frames and can choose
/// not to answer them, which no managed client allows.</summary>
public sealed class RawWebSocket : IAsyncDisposable
{
    private const byte PingOpcode = 0x9;
    private const byte PongOpcode = 0xA;
    private const byte CloseOpcode = 0x8;

    private readonly TcpClient _tcp;
    private readonly NetworkStream _stream;

    private RawWebSocket(TcpClient tcp)
    {
        _tcp = tcp;
        _stream = tcp.GetStream();
    }

    public static async Task<RawWebSocket> ConnectAsync(Uri url)
    {
        var tcp = new TcpClient();
        await tcp.ConnectAsync(url.Host, url.Port);
        var socket = new RawWebSocket(tcp);
        var key = Convert.ToBase64String(RandomNumberGenerator.GetBytes(16));
        var handshake = $"GET {url.PathAndQuery} HTTP/1.1\r\nHost: {url.Authority}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n\r\n";
        await socket._stream.WriteAsync(Encoding.ASCII.GetBytes(handshake));
        var head = new StringBuilder();
        var one = new byte[1];
        while (!head.ToString().EndsWith("\r\n\r\n", StringComparison.Ordinal))
        {
            if (await socket._stream.ReadAsync(one) == 0)
            {
                throw new IOException("The server closed during the handshake.");
            }

            head.Append((char)one[0]);
        }

        Assert.StartsWith("HTTP/1.1 101", head.ToString(), StringComparison.Ordinal);
        return socket;
    }

    /// <summary>Reads frames until a ping arrives (answering it when <paramref name="answer"/>) and returns true; false when the
    /// server closed or dropped the connection first.</summary>
    public async Task<bool> NextPingAsync(bool answer, TimeSpan timeout)
    {
        using var cancel = new CancellationTokenSource(timeout);
        try
        {
            while (true)
            {
                var (opcode, payload) = await ReadFrameAsync(cancel.Token);
                if (opcode is null or CloseOpcode)
                {
                    return false;
                }

                if (opcode == PingOpcode)
                {
                    if (answer)
                    {
                        await WriteFrameAsync(PongOpcode, payload, cancel.Token);
                    }

                    return true;
                }
            }
        }
        catch (OperationCanceledException) when (cancel.IsCancellationRequested)
        {
            throw new TimeoutException($"No ping and no close within {timeout}.");
        }
        catch (IOException)
        {
            return false;
        }
    }

    public ValueTask DisposeAsync()
    {
        _tcp.Dispose();
        return ValueTask.CompletedTask;
    }

    private async Task<(byte? Opcode, byte[] Payload)> ReadFrameAsync(CancellationToken cancellationToken)
    {
        var head = new byte[2];
        if (!await ReadExactlyOrEndAsync(head, cancellationToken))
        {
            return (null, []);
        }

        long length = head[1] & 0x7F;
        if (length == 126)
        {
            var ext = new byte[2];
            await _stream.ReadExactlyAsync(ext, cancellationToken);
            length = (ext[0] << 8) | ext[1];
        }
        else if (length == 127)
        {
            var ext = new byte[8];
            await _stream.ReadExactlyAsync(ext, cancellationToken);
            length = (long)System.Buffers.Binary.BinaryPrimitives.ReadUInt64BigEndian(ext);
        }

        // Server frames are never masked (RFC 6455 5.1).
        var payload = new byte[length];
        await _stream.ReadExactlyAsync(payload, cancellationToken);
        return ((byte)(head[0] & 0x0F), payload);
    }

    private async Task<bool> ReadExactlyOrEndAsync(byte[] buffer, CancellationToken cancellationToken)
    {
        var read = 0;
        while (read < buffer.Length)
        {
            var n = await _stream.ReadAsync(buffer.AsMemory(read), cancellationToken);
            if (n == 0)
            {
                return false;
            }

            read += n;
        }

        return true;
    }

    private async Task WriteFrameAsync(byte opcode, byte[] payload, CancellationToken cancellationToken)
    {
        // Client frames must be masked (RFC 6455 5.3); control frames carry at most 125 bytes.
        var mask = RandomNumberGenerator.GetBytes(4);
        var frame = new byte[2 + 4 + payload.Length];
        frame[0] = (byte)(0x80 | opcode);
        frame[1] = (byte)(0x80 | payload.Length);
        mask.CopyTo(frame, 2);
        for (var i = 0; i < payload.Length; i++)
        {
            frame[6 + i] = (byte)(payload[i] ^ mask[i % 4]);
        }

        await _stream.WriteAsync(frame, cancellationToken);
    }
}
