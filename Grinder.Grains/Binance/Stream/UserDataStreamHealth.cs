namespace Grinder.Grains.Binance.Stream;

public enum UserDataStreamState
{
    /// <summary>Not started, or disposed.</summary>
    Stopped,

    /// <summary>Getting a listenKey or opening the WebSocket.</summary>
    Connecting,

    /// <summary>Open and receiving.</summary>
    Connected,

    /// <summary>Waiting before the next attempt after a failure.</summary>
    Backoff,
}

/// <summary>A snapshot for /healthz (no key, no URL).</summary>
/// <param name="Reconnects">Connections opened after the first one (renewals included).</param>
/// <param name="ConnectAttempts">Handshakes tried, successful or not.</param>
/// <param name="LastError">Why the last attempt or connection failed, without the key.</param>
public sealed record UserDataStreamHealth(
    UserDataStreamState State,
    DateTimeOffset? ConnectedSince,
    DateTimeOffset? LastMessageAt,
    long Reconnects,
    long ConnectAttempts,
    string? LastError);
