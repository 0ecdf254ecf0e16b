namespace Grinder.Grains.Binance.Stream;

/// <summary>What one user data stream text message was.</summary>
public enum StreamMessageKind
{
    /// <summary>ORDER_TRADE_UPDATE with <c>o.x == "TRADE"</c> that passed validation: one fill.</summary>
    Fill,

    /// <summary>ORDER_TRADE_UPDATE with <c>o.x == "TRADE"</c> that failed validation: quarantine it like a bad REST row.</summary>
    Rejected,

    /// <summary>listenKeyExpired: no more events on this key; POST a new one.</summary>
    ListenKeyExpired,

    /// <summary>Any other event (order updates without a fill, ACCOUNT_UPDATE, ...): nothing to record.</summary>
    Other,

    /// <summary>Not a JSON object with an event type: counted, never fatal.</summary>
    Malformed,
}

/// <summary>One parsed message. <see cref="Trade"/> is set for <see cref="StreamMessageKind.Fill"/>, <see cref="Rejected"/> for
/// <see cref="StreamMessageKind.Rejected"/> and <see cref="StreamMessageKind.Malformed"/>.</summary>
/// <param name="EventTimeMs">Binance's <c>E</c> (event time), when readable.</param>
public sealed record StreamMessage(StreamMessageKind Kind, ParsedTrade? Trade, RejectedRow? Rejected, long? EventTimeMs);
