namespace Grinder.Grains.Binance.Stream;

/// <summary>Exponential backoff with jitter: the n-th consecutive failure waits a random time in [d/2, d] with
/// d = min(max, base × 2^(n-1)). Zero failures wait nothing (reconnect at once after a connection that worked).</summary>
public sealed class ReconnectBackoff(TimeSpan baseDelay, TimeSpan maxDelay, Random random)
{
    public TimeSpan Delay(int consecutiveFailures)
    {
        if (consecutiveFailures <= 0)
        {
            return TimeSpan.Zero;
        }

        var exponent = Math.Min(consecutiveFailures - 1, 30);
        var ceiling = Math.Min(maxDelay.Ticks, baseDelay.Ticks * (double)(1L << exponent));
        return TimeSpan.FromTicks((long)(ceiling * (0.5 + (0.5 * random.NextDouble()))));
    }
}
