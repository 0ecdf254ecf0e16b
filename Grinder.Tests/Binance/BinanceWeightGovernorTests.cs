using System.Net;
using Grinder.Grains.Binance;
using Grinder.Tests.Infrastructure;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;

namespace Grinder.Tests.Binance;

public sealed class BinanceWeightGovernorTests
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(10);

    // 10:00:30 UTC: half a minute before the weight counter rolls over.
    private readonly WatchedFakeTimeProvider _time = new(new DateTimeOffset(2025, 1, 1, 10, 0, 30, TimeSpan.Zero));

    private BinanceWeightGovernor Create(int limit = 2400, double share = 0.5, TimeSpan? defaultRetryAfter = null) =>
        new(_time, Options.Create(new BinanceOptions
        {
            WeightLimitPerMinute = limit,
            WeightShare = share,
            DefaultRetryAfter = defaultRetryAfter ?? TimeSpan.FromSeconds(60),
        }), NullLogger<BinanceWeightGovernor>.Instance);

    [Fact]
    public async Task Requests_beyond_the_share_wait_for_the_next_minute()
    {
        var governor = Create(limit: 100, share: 0.5);
        Assert.Equal(50, governor.Budget);
        for (var i = 0; i < 10; i++)
        {
            await governor.AcquireAsync(5, CancellationToken.None).WaitAsync(Patience);
        }

        var eleventh = governor.AcquireAsync(5, CancellationToken.None);

        Assert.False(eleventh.IsCompleted);
        Assert.Equal([new DateTimeOffset(2025, 1, 1, 10, 1, 0, TimeSpan.Zero)], _time.ArmedDueTimes);
        _time.Advance(TimeSpan.FromSeconds(29));
        Assert.False(eleventh.IsCompleted);
        _time.Advance(TimeSpan.FromSeconds(1));
        await eleventh.WaitAsync(Patience);
        Assert.Equal(5, governor.UsedWeight);
    }

    [Fact]
    public async Task Lower_priority_reads_find_room_only_within_their_share_and_spread_over_the_minute()
    {
        // 10:00:30: half the minute has passed, so half of a paced share is open.
        var governor = Create(limit: 1200, share: 1);
        Assert.True(governor.HasHeadroom(5, 0.5));
        Assert.True(governor.HasPacedHeadroom(5, 0.5, TimeSpan.Zero));
        for (var i = 0; i < 60; i++)
        {
            await governor.AcquireAsync(5, CancellationToken.None).WaitAsync(Patience);
        }

        // 300 of 1,200 used: a paced half share is open up to 600 × 30/60 = 300, the plain half share up to 600.
        Assert.False(governor.HasPacedHeadroom(5, 0.5, TimeSpan.Zero));
        Assert.True(governor.HasPacedHeadroom(5, 0.5, TimeSpan.FromSeconds(5)));
        Assert.True(governor.HasHeadroom(5, 0.5));
        Assert.False(governor.HasHeadroom(5, 0.25));

        // A 429 closes every share until Retry-After.
        governor.Observe(HttpStatusCode.TooManyRequests, null, TimeSpan.FromSeconds(10));
        Assert.False(governor.HasHeadroom(5, 1));
    }

    [Fact]
    public async Task Used_weight_header_from_binance_counts_against_the_budget()
    {
        var governor = Create();

        // Another process on the same IP already used most of the share.
        governor.Observe(HttpStatusCode.OK, usedWeight: 1198, retryAfter: null);
        var request = governor.AcquireAsync(5, CancellationToken.None);

        Assert.False(request.IsCompleted);
        _time.Advance(TimeSpan.FromSeconds(30));
        await request.WaitAsync(Patience);
    }

    [Fact]
    public async Task A_429_pauses_every_caller_until_retry_after()
    {
        var governor = Create();
        governor.Observe(HttpStatusCode.TooManyRequests, usedWeight: null, retryAfter: TimeSpan.FromSeconds(7));

        var accountA = governor.AcquireAsync(5, CancellationToken.None);
        var accountB = governor.AcquireAsync(5, CancellationToken.None);

        Assert.False(accountA.IsCompleted);
        Assert.False(accountB.IsCompleted);
        Assert.Equal(_time.GetUtcNow() + TimeSpan.FromSeconds(7), governor.PausedUntil);
        _time.Advance(TimeSpan.FromSeconds(6));
        Assert.False(accountA.IsCompleted);
        Assert.False(accountB.IsCompleted);
        _time.Advance(TimeSpan.FromSeconds(1));
        await Task.WhenAll(accountA, accountB).WaitAsync(Patience);
        Assert.Null(governor.PausedUntil);
    }

    [Fact]
    public async Task After_a_429_with_the_budget_spent_requests_also_wait_for_the_minute_to_roll_over()
    {
        var governor = Create();
        governor.Observe(HttpStatusCode.TooManyRequests, usedWeight: 2400, retryAfter: TimeSpan.FromSeconds(7));

        var request = governor.AcquireAsync(5, CancellationToken.None);
        _time.Advance(TimeSpan.FromSeconds(7));

        // The governor re-checks after the pause and then waits for the minute boundary.
        await _time.WaitForTimerDueAsync(new DateTimeOffset(2025, 1, 1, 10, 1, 0, TimeSpan.Zero), Patience);
        Assert.False(request.IsCompleted);
        _time.Advance(TimeSpan.FromSeconds(23));
        await request.WaitAsync(Patience);
    }

    [Fact]
    public async Task A_418_without_retry_after_uses_the_default_pause()
    {
        var governor = Create(defaultRetryAfter: TimeSpan.FromSeconds(120));
        var start = _time.GetUtcNow();

        governor.Observe((HttpStatusCode)418, usedWeight: null, retryAfter: null);
        var request = governor.AcquireAsync(1, CancellationToken.None);

        Assert.Equal(start + TimeSpan.FromSeconds(120), governor.PausedUntil);
        _time.Advance(TimeSpan.FromSeconds(119));
        Assert.False(request.IsCompleted);
        _time.Advance(TimeSpan.FromSeconds(1));
        await request.WaitAsync(Patience);
    }

    [Fact]
    public void A_shorter_later_retry_after_does_not_shorten_a_ban()
    {
        var governor = Create();
        var start = _time.GetUtcNow();

        governor.Observe((HttpStatusCode)418, usedWeight: null, retryAfter: TimeSpan.FromMinutes(5));
        governor.Observe(HttpStatusCode.TooManyRequests, usedWeight: null, retryAfter: TimeSpan.FromSeconds(1));

        Assert.Equal(start + TimeSpan.FromMinutes(5), governor.PausedUntil);
    }

    [Fact]
    public async Task Waiting_is_cancellable()
    {
        var governor = Create();
        governor.Observe(HttpStatusCode.TooManyRequests, usedWeight: null, retryAfter: TimeSpan.FromMinutes(1));
        using var cancel = new CancellationTokenSource();

        var request = governor.AcquireAsync(5, cancel.Token);
        await cancel.CancelAsync();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => request.WaitAsync(Patience));
    }

    [Fact]
    public async Task A_request_heavier_than_the_budget_still_goes_alone_in_a_fresh_minute()
    {
        var governor = Create(limit: 10, share: 0.5);

        await governor.AcquireAsync(20, CancellationToken.None).WaitAsync(Patience);

        Assert.Equal(20, governor.UsedWeight);
    }
}
