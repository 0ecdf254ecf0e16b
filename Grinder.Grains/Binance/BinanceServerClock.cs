using Microsoft.Extensions.Options;

namespace Grinder.Grains.Binance;

/// <summary>
/// Estimated Binance server time: local time plus the offset measured with <c>GET /fapi/v1/time</c>. One per silo.
/// </summary>
/// <remarks>
/// Binance "Timing security": a SIGNED request is rejected with -1021 unless
/// <c>serverTime - recvWindow &lt;= timestamp &lt; serverTime + 1000</c>, so the timestamp must follow the server's clock,
/// not the host's.
/// </remarks>
public sealed class BinanceServerClock(TimeProvider time, IOptions<BinanceOptions> options)
{
    private readonly TimeSpan _resyncInterval = options.Value.ClockResyncInterval;
    private readonly Lock _gate = new();
    private long _offsetMs;
    private DateTimeOffset? _syncedAt;
    private bool _hasOffset;

    /// <summary>One synchronisation at a time: after a -1021 every account would otherwise ask at once.</summary>
    internal SemaphoreSlim SyncGate { get; } = new(1, 1);

    /// <summary>Server time minus local time, in ms, from the last synchronisation (0 before the first).</summary>
    public long OffsetMs
    {
        get
        {
            lock (_gate)
            {
                return _offsetMs;
            }
        }
    }

    /// <summary>True once an offset has been measured (it stays usable while a refresh fails).</summary>
    public bool HasOffset
    {
        get
        {
            lock (_gate)
            {
                return _hasOffset;
            }
        }
    }

    /// <summary>True before the first synchronisation and when the last one is older than the resync interval.</summary>
    public bool NeedsSync
    {
        get
        {
            lock (_gate)
            {
                return _syncedAt is not { } at || time.GetUtcNow() - at >= _resyncInterval;
            }
        }
    }

    /// <summary>Local time in Unix ms (no offset).</summary>
    public long LocalNowMs => time.GetUtcNow().ToUnixTimeMilliseconds();

    /// <summary>Estimated server time in Unix ms.</summary>
    public long ServerNowMs => LocalNowMs + OffsetMs;

    /// <summary>Records a <c>serverTime</c> reading taken between <paramref name="sentAtMs"/> and <paramref name="receivedAtMs"/> (local).</summary>
    /// <returns>The new offset in ms.</returns>
    public long Record(long serverTimeMs, long sentAtMs, long receivedAtMs)
    {
        // The server stamped its time somewhere during the round trip: assume the middle.
        var localMid = sentAtMs + ((receivedAtMs - sentAtMs) / 2);
        lock (_gate)
        {
            _offsetMs = serverTimeMs - localMid;
            _syncedAt = time.GetUtcNow();
            _hasOffset = true;
            return _offsetMs;
        }
    }

    /// <summary>Reads the answer of <c>GET /fapi/v1/time</c>, <c>{"serverTime":1499827319559}</c> (Binance docs); false unless it holds a positive time.</summary>
    public static bool TryReadServerTime(ReadOnlySpan<byte> body, out long serverTime) =>
        BinanceJson.TryReadTopLevelInt64(body, "serverTime"u8, out serverTime) && serverTime > 0;

    /// <summary>Marks the offset stale, e.g. after Binance answered -1021.</summary>
    public void Invalidate()
    {
        lock (_gate)
        {
            _syncedAt = null;
        }
    }
}
