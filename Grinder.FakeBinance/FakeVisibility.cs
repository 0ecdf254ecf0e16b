namespace Grinder.FakeBinance;

/// <summary>When a row that exists becomes visible in <c>GET /fapi/v1/userTrades</c>. A hidden row is a trade all the same: it is
/// in <see cref="FakeExchange.TradeKeys"/> and on the user data stream at once; only REST does not serve it yet.</summary>
/// <remarks>This reproduces a trade that appears in userTrades after a higher id of the same symbol was already served (REST
/// lagging the matching engine and the stream). Once visible the row is served by fromId and by time windows like any other.
/// All given conditions must hold: server time at or after the moment, and the given number of served requests passed.</remarks>
/// <param name="Delay">Hidden for this long after it is added or hidden (server time).</param>
/// <param name="At">Hidden until this server time.</param>
/// <param name="Requests">Hidden from the next this many served userTrades requests of its account and symbol; the one after sees it.</param>
/// <param name="UntilRevealed">Hidden until <see cref="FakeExchange.RevealTrades"/> is called.</param>
public sealed record FakeVisibility(TimeSpan? Delay = null, DateTimeOffset? At = null, int Requests = 0, bool UntilRevealed = false)
{
    /// <summary>Hidden until <see cref="FakeExchange.RevealTrades"/>: the deterministic choice for tests.</summary>
    public static FakeVisibility Held { get; } = new(UntilRevealed: true);

    public static FakeVisibility After(TimeSpan delay) => new(Delay: delay);

    public static FakeVisibility AtTime(DateTimeOffset at) => new(At: at);

    public static FakeVisibility AfterRequests(int requests) => new(Requests: requests);

    /// <summary>Null when valid, else why not.</summary>
    internal string? Problem() =>
        Delay < TimeSpan.Zero ? "Visibility delay must not be negative."
        : Requests < 0 ? "Visibility requests must not be negative."
        : null;

    /// <summary>The server time (ms) from which the row may be served; <see cref="long.MaxValue"/> while held.</summary>
    internal long VisibleFromMs(long nowMs)
    {
        var from = long.MinValue;
        if (Delay is { } delay)
        {
            from = Math.Max(from, nowMs + (long)delay.TotalMilliseconds);
        }

        if (At is { } at)
        {
            from = Math.Max(from, at.ToUnixTimeMilliseconds());
        }

        return UntilRevealed ? long.MaxValue : from;
    }
}
