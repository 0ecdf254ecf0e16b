namespace Grinder.FakeBinance;

/// <summary>Outcome of admitting one request: go on, 429 or 418, and the weight used in the current minute.</summary>
internal readonly record struct WeightDecision(int UsedWeight, ApiError? Refusal, int RetryAfterSeconds);

/// <summary>REQUEST_WEIGHT accounting per client IP and calendar minute, with Binance's 429 → 418 escalation.</summary>
/// <remarks>Binance "LIMITS": limits are per IP, not per API key; every answer carries X-MBX-USED-WEIGHT-1M; after a 429 the
/// client must back off, and "repeatedly violating rate limits and/or failing to back off after receiving 429s will result
/// in an automated IP ban (HTTP status 418)". Retry-After gives the seconds to wait.</remarks>
internal sealed class IpWeightLimiter
{
    private readonly Lock _gate = new();
    private readonly Dictionary<string, IpState> _byIp = new(StringComparer.Ordinal);

    public int LimitPerMinute { get; set; }

    public int BanAfterRequestsWhileLimited { get; init; }

    public TimeSpan BanDuration { get; init; }

    public WeightDecision Admit(string ip, int weight, DateTimeOffset now)
    {
        lock (_gate)
        {
            if (!_byIp.TryGetValue(ip, out var state))
            {
                state = new IpState();
                _byIp.Add(ip, state);
            }

            var minute = now.ToUnixTimeMilliseconds() / 60_000;
            if (minute != state.Minute)
            {
                state.Minute = minute;
                state.Used = 0;
            }

            if (state.BannedUntil > now)
            {
                return new WeightDecision(state.Used, ApiError.Banned(state.BannedUntil), SecondsUntil(state.BannedUntil, now));
            }

            var windowEnd = DateTimeOffset.FromUnixTimeMilliseconds((minute + 1) * 60_000);
            if (state.LimitedUntil > now)
            {
                // Told to back off and still sending: count it, ban after the allowance.
                if (++state.RequestsWhileLimited > BanAfterRequestsWhileLimited)
                {
                    state.BannedUntil = now + BanDuration;
                    state.LimitedUntil = DateTimeOffset.MinValue;
                    state.RequestsWhileLimited = 0;
                    return new WeightDecision(state.Used, ApiError.Banned(state.BannedUntil), SecondsUntil(state.BannedUntil, now));
                }

                return new WeightDecision(state.Used, ApiError.TooManyRequests(LimitPerMinute), SecondsUntil(state.LimitedUntil, now));
            }

            if (state.Used + weight > LimitPerMinute)
            {
                state.LimitedUntil = windowEnd;
                state.RequestsWhileLimited = 0;
                return new WeightDecision(state.Used, ApiError.TooManyRequests(LimitPerMinute), SecondsUntil(windowEnd, now));
            }

            state.Used += weight;
            return new WeightDecision(state.Used, null, 0);
        }
    }

    private static int SecondsUntil(DateTimeOffset until, DateTimeOffset now) =>
        Math.Max(1, (int)Math.Ceiling((until - now).TotalSeconds));

    private sealed class IpState
    {
        public long Minute { get; set; } = -1;

        public int Used { get; set; }

        public DateTimeOffset LimitedUntil { get; set; } = DateTimeOffset.MinValue;

        public int RequestsWhileLimited { get; set; }

        public DateTimeOffset BannedUntil { get; set; } = DateTimeOffset.MinValue;
    }
}
