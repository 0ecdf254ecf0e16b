namespace Grinder.Grains.Binance.Stream;

/// <summary>What a <see cref="UserDataStreamConnection"/> hands to its consumer, in order.</summary>
public abstract record UserDataStreamEvent;

/// <summary>A fill pushed by the exchange (ORDER_TRADE_UPDATE, <c>x == "TRADE"</c>), validated like a REST row.</summary>
/// <param name="EventTimeMs">Binance's event time <c>E</c>, when readable.</param>
public sealed record StreamFill(ParsedTrade Trade, long? EventTimeMs) : UserDataStreamEvent;

/// <summary>A fill event that failed validation (or a malformed message): quarantine it, never count it.</summary>
public sealed record StreamRejected(RejectedRow Row) : UserDataStreamEvent;

/// <summary>A connection opened. After a gap (<paramref name="Renewal"/> false) events may have been missed: reconcile by REST.</summary>
/// <param name="Renewal">True when it replaced a healthy connection before the 24 h limit (the old one closed after it opened).</param>
public sealed record StreamConnected(DateTimeOffset At, bool Renewal) : UserDataStreamEvent;

/// <summary>The connection was lost; events from now until the next <see cref="StreamConnected"/> reach only REST.</summary>
public sealed record StreamDisconnected(DateTimeOffset At, string Reason) : UserDataStreamEvent;
