using System.Net;
using System.Net.Sockets;
using System.Security.Cryptography;
using System.Text;
using System.Threading.Channels;
using Grinder.FakeBinance;
using Grinder.Grains.Binance;
using Grinder.Grains.Binance.Stream;
using Microsoft.Extensions.Logging;

namespace Grinder.Tests.Binance.Stream;

/// <summary>Builds stream connections on the production DI wiring pointed at a fake exchange, and reads their events.</summary>
public static class StreamClientKit
{
    public static readonly TimeSpan Wait = TimeSpan.FromSeconds(15);

    /// <summary>Fast settings for tests: reconnects and backoff in milliseconds.</summary>
    public static UserDataStreamOptions FastOptions(Action<UserDataStreamOptions>? change = null)
    {
        var options = new UserDataStreamOptions
        {
            ReconnectBaseDelay = TimeSpan.FromMilliseconds(50),
            ReconnectMaxDelay = TimeSpan.FromMilliseconds(400),
            StableAfter = TimeSpan.FromMilliseconds(200),
            ConnectTimeout = TimeSpan.FromSeconds(5),
        };
        change?.Invoke(options);
        return options;
    }

    public static UserDataStreamConnection Create(ClientHarness harness, BinanceCredentials credentials, Uri streamUrl, UserDataStreamOptions options) =>
        new(
            harness.Services.GetRequiredService<ListenKeyClient>(),
            credentials,
            "acct-stream-test",
            streamUrl,
            options,
            TimeProvider.System,
            harness.Services.GetRequiredService<ILoggerFactory>().CreateLogger<UserDataStreamConnection>(),
            new Random(7));

    /// <summary>Reads events until one of type <typeparamref name="T"/> (matching <paramref name="match"/>) arrives; the ones
    /// before it are added to <paramref name="seen"/>.</summary>
    public static async Task<T> NextAsync<T>(this ChannelReader<UserDataStreamEvent> events, List<UserDataStreamEvent>? seen = null, Func<T, bool>? match = null)
        where T : UserDataStreamEvent
    {
        using var timeout = new CancellationTokenSource(Wait);
        try
        {
            while (true)
            {
                var next = await events.ReadAsync(timeout.Token);
                if (next is T found && (match is null || match(found)))
                {
                    return found;
                }

                seen?.Add(next);
            }
        }
        catch (OperationCanceledException) when (timeout.IsCancellationRequested)
        {
            throw new TimeoutException($"No {typeof(T).Name} within {Wait}; saw: {string.Join(", ", seen ?? [])}");
        }
    }

    /// <summary>The fills of the next <paramref name="count"/> StreamFill events.</summary>
    public static async Task<List<ParsedTrade>> FillsAsync(this ChannelReader<UserDataStreamEvent> events, int count, List<UserDataStreamEvent>? seen = null)
    {
        var fills = new List<ParsedTrade>(count);
        while (fills.Count < count)
        {
            fills.Add((await events.NextAsync<StreamFill>(seen)).Trade);
        }

        return fills;
    }

    public static (string Symbol, long Id, string Side) Key(ParsedTrade trade) => (trade.Symbol, trade.Id, trade.Side == FillSide.Buy ? "BUY" : "SELL");

    public static (string Symbol, long Id, string Side) Key(FakeTrade trade) => (trade.Symbol, trade.Id, trade.Side);

    /// <summary>No log line carries a listenKey or the API key, and no DELETE (or any write) reached the exchange.</summary>
    public static void AssertNoSecretsAndNoWrites(ClientHarness harness, FakeExchange exchange, BinanceCredentials credentials, IEnumerable<string> listenKeys)
    {
        var text = string.Join("\n", harness.Logs.Entries.Select(e => e.Message));
        Assert.Contains("STREAM_CONNECTED", text, StringComparison.Ordinal);
        foreach (var key in listenKeys)
        {
            Assert.DoesNotContain(key, text, StringComparison.Ordinal);
        }

        Assert.DoesNotContain(credentials.ApiKey, text, StringComparison.Ordinal);
        Assert.DoesNotContain("listenKey=", text, StringComparison.Ordinal);
        Assert.DoesNotContain(exchange.WriteAttempts, r => r.ApiKey == credentials.ApiKey);
    }

    /// <summary>Adds the account's active listenKey to the keys a test must never find in a log line.</summary>
    public static void Remember(this HashSet<string> keys, FakeExchange exchange, BinanceCredentials credentials)
    {
        if (exchange.ActiveListenKey(credentials.ApiKey) is { } key)
        {
            keys.Add(key);
        }
    }
}

/// <summary>A WebSocket server on a bare TCP listener that completes the handshake and then never reads or writes again: a
/// peer that went silent without closing (no pong, no FIN). Counts accepted connections.</summary>
public sealed class SilentWebSocketServer : IAsyncDisposable
{
    private readonly TcpListener _listener = new(IPAddress.Loopback, 0);
    private readonly List<TcpClient> _clients = [];
    private readonly CancellationTokenSource _stop = new();
    private readonly Channel<int> _accepted = Channel.CreateUnbounded<int>();
    private readonly Task _loop;

    public SilentWebSocketServer()
    {
        _listener.Start();
        _loop = Task.Run(AcceptAsync);
    }

    public Uri Url => new($"ws://127.0.0.1:{((IPEndPoint)_listener.LocalEndpoint).Port}/");

    /// <summary>Waits for the n-th completed handshake.</summary>
    public async Task WaitForHandshakeAsync(int n)
    {
        using var timeout = new CancellationTokenSource(StreamClientKit.Wait);
        while (await _accepted.Reader.ReadAsync(timeout.Token) < n)
        {
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        _listener.Stop();
        await _loop.ContinueWith(_ => { }, TaskScheduler.Default);
        lock (_clients)
        {
            foreach (var client in _clients)
            {
                client.Dispose();
            }
        }

        _stop.Dispose();
    }

    private async Task AcceptAsync()
    {
        var count = 0;
        while (!_stop.IsCancellationRequested)
        {
            var client = await _listener.AcceptTcpClientAsync(_stop.Token);
            lock (_clients)
            {
                _clients.Add(client);
            }

            var stream = client.GetStream();
            var head = new StringBuilder();
            var one = new byte[1];
            while (!head.ToString().EndsWith("\r\n\r\n", StringComparison.Ordinal) && await stream.ReadAsync(one, _stop.Token) == 1)
            {
                head.Append((char)one[0]);
            }

            var keyLine = head.ToString().Split("\r\n").First(l => l.StartsWith("Sec-WebSocket-Key:", StringComparison.OrdinalIgnoreCase));
            var key = keyLine["Sec-WebSocket-Key:".Length..].Trim();

            // RFC 6455 4.2.2: the accept value is base64(SHA-1(key + the fixed GUID)).
            var accept = Convert.ToBase64String(SHA1.HashData(Encoding.ASCII.GetBytes(key + "258EAFA5-E914-47DA-95CA-C5AB0DC85B11")));
            await stream.WriteAsync(Encoding.ASCII.GetBytes(
                $"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: {accept}\r\n\r\n"), _stop.Token);
            _accepted.Writer.TryWrite(++count);
        }
    }
}
