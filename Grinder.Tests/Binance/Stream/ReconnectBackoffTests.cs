using Grinder.Grains.Binance.Stream;

namespace Grinder.Tests.Binance.Stream;

public sealed class ReconnectBackoffTests
{
    [Fact]
    public void Delays_double_per_failure_up_to_the_cap_with_jitter_in_the_upper_half()
    {
        var backoff = new ReconnectBackoff(TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(30), new Random(4));

        var delays = Enumerable.Range(1, 10).Select(backoff.Delay).ToArray();

        Assert.Equal(TimeSpan.Zero, backoff.Delay(0));
        for (var n = 1; n <= 10; n++)
        {
            var ceiling = Math.Min(30, Math.Pow(2, n - 1));
            Assert.InRange(delays[n - 1].TotalSeconds, ceiling / 2, ceiling);
        }
    }

    [Fact]
    public void Jitter_spreads_clients_that_failed_together()
    {
        var random = new Random(5);
        var delays = Enumerable.Range(0, 20).Select(_ => new ReconnectBackoff(TimeSpan.FromSeconds(1), TimeSpan.FromMinutes(2), random).Delay(4)).ToArray();

        Assert.True(delays.Distinct().Count() > 15, "twenty clients backing off together should not wait the same time");
    }
}
