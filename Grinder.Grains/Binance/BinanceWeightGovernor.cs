using System.Net;
using Grinder.Grains.Logging;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Grinder.Grains.Binance;

/// <summary>
/// One per silo (a DI singleton), shared by every account: Binance counts request weight per IP, so two accounts on one
/// silo draw from one budget. Keeps the used weight below <see cref="BinanceOptions.WeightShare"/> of the per-minute
/// limit and, after a 429 or 418, holds back every request until <c>Retry-After</c> has passed.
/// </summary>
/// <remarks>
/// Binance USD-M "LIMITS": every response carries <c>X-MBX-USED-WEIGHT-1M</c> (weight used by the IP in the current
/// minute); 429 means the limit was broken and "it's your obligation as an API to back off"; repeated violations give
/// 418 (IP ban) with a <c>Retry-After</c> in seconds.
/// </remarks>
public sealed partial class BinanceWeightGovernor(TimeProvider time, IOptions<BinanceOptions> options, ILogger<BinanceWeightGovernor> logger)
{
    private readonly BinanceOptions _options = options.Value;
    private readonly Lock _gate = new();

    private long _minute = long.MinValue;
    private int _usedThisMinute;
    private DateTimeOffset _pausedUntil = DateTimeOffset.MinValue;

    /// <summary>The weight this silo allows itself per minute.</summary>
    public int Budget => Math.Max(1, (int)Math.Floor(_options.WeightLimitPerMinute * _options.WeightShare));

    /// <summary>Weight counted in the current minute (reported by Binance or reserved by requests in flight).</summary>
    public int UsedWeight
    {
        get
        {
            lock (_gate)
            {
                RollMinute(time.GetUtcNow());
                return _usedThisMinute;
            }
        }
    }

    /// <summary>End of the current 429/418 pause, or null when no pause is active.</summary>
    public DateTimeOffset? PausedUntil
    {
        get
        {
            lock (_gate)
            {
                return _pausedUntil > time.GetUtcNow() ? _pausedUntil : null;
            }
        }
    }

    /// <summary>
    /// Whether a request of <paramref name="weight"/> fits into <paramref name="share"/> of the budget of the current minute
    /// (and no 429/418 pause holds): lower-priority reads ask this first and skip a tick rather than wait, so the weight they
    /// would take stays for reads that cannot wait.
    /// </summary>
    public bool HasHeadroom(int weight, double share)
    {
        lock (_gate)
        {
            var now = time.GetUtcNow();
            if (now < _pausedUntil)
            {
                return false;
            }

            RollMinute(now);
            return _usedThisMinute + weight <= Budget * share;
        }
    }

    /// <summary>
    /// <see cref="HasHeadroom"/> with the share spread over the minute: at second t only <c>share × (t + lead) / 60</c> of the
    /// budget is open. Without this, the accounts whose ticks fall first after each minute mark take the whole share every
    /// minute and the others never get a turn; spread, every tick phase of the minute gets its part.
    /// </summary>
    public bool HasPacedHeadroom(int weight, double share, TimeSpan lead)
    {
        var now = time.GetUtcNow();
        var intoMinute = TimeSpan.FromTicks((now.UtcTicks - DateTimeOffset.UnixEpoch.UtcTicks) % TimeSpan.TicksPerMinute);
        var open = Math.Min(1.0, (intoMinute + lead).TotalSeconds / 60.0);
        return HasHeadroom(weight, share * open);
    }

    /// <summary>Waits until a request of <paramref name="weight"/> may be sent, then reserves that weight.</summary>
    public async Task AcquireAsync(int weight, CancellationToken cancellationToken)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(weight);
        while (true)
        {
            TimeSpan wait;
            lock (_gate)
            {
                var now = time.GetUtcNow();
                if (now < _pausedUntil)
                {
                    wait = _pausedUntil - now;
                }
                else
                {
                    RollMinute(now);

                    // A single request heavier than the whole budget may still go alone at the start of a minute.
                    if (_usedThisMinute + weight <= Budget || _usedThisMinute == 0)
                    {
                        _usedThisMinute += weight;
                        return;
                    }

                    var nextMinuteTicks = DateTimeOffset.UnixEpoch.UtcTicks + ((_minute + 1) * TimeSpan.TicksPerMinute);
                    wait = TimeSpan.FromTicks(nextMinuteTicks - now.UtcTicks);
                    LogWeightWait(logger, _usedThisMinute, weight, Budget, wait.TotalMilliseconds);
                }
            }

            await Task.Delay(wait < TimeSpan.FromMilliseconds(1) ? TimeSpan.FromMilliseconds(1) : wait, time, cancellationToken)
                .ConfigureAwait(false);
        }
    }

    /// <summary>Takes in what a response says about the IP's budget: the used-weight header and 429/418 pauses.</summary>
    public void Observe(HttpStatusCode status, int? usedWeight, TimeSpan? retryAfter)
    {
        lock (_gate)
        {
            var now = time.GetUtcNow();
            RollMinute(now);
            if (usedWeight is { } used && used >= 0)
            {
                // Binance's count is authoritative, but requests still in flight are not in it yet: keep the larger.
                _usedThisMinute = Math.Max(_usedThisMinute, used);
            }

            if (status is HttpStatusCode.TooManyRequests || (int)status == 418)
            {
                var pause = retryAfter is { } ra && ra > TimeSpan.Zero ? ra : _options.DefaultRetryAfter;
                var until = now + pause;
                if (until > _pausedUntil)
                {
                    _pausedUntil = until;
                }

                LogRateLimited(logger, (int)status, pause.TotalSeconds, _pausedUntil);
            }
        }
    }

    private void RollMinute(DateTimeOffset now)
    {
        var minute = (now.UtcTicks - DateTimeOffset.UnixEpoch.UtcTicks) / TimeSpan.TicksPerMinute;
        if (minute != _minute)
        {
            _minute = minute;
            _usedThisMinute = 0;
        }
    }

    [LoggerMessage(EventId = LogEvents.Binance.BinanceRateLimited, EventName = "BINANCE_RATE_LIMITED", Level = LogLevel.Warning,
        Message = "BINANCE_RATE_LIMITED status={Status}: every Binance request of this silo pauses for {PauseSeconds} s (until {PausedUntil:O})")]
    private static partial void LogRateLimited(ILogger logger, int status, double pauseSeconds, DateTimeOffset pausedUntil);

    [LoggerMessage(EventId = LogEvents.Binance.BinanceWeightWait, EventName = "BINANCE_WEIGHT_WAIT", Level = LogLevel.Information,
        Message = "BINANCE_WEIGHT_WAIT used={UsedWeight} request={RequestWeight} budget={Budget}: waiting {WaitMs} ms for the next minute")]
    private static partial void LogWeightWait(ILogger logger, int usedWeight, int requestWeight, int budget, double waitMs);
}
