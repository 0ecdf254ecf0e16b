namespace Grinder.FakeBinance;

/// <summary>How the fake refuses the user data stream (see <see cref="FakeExchange.RefuseStreams"/>), so a client must fall
/// back to REST polling.</summary>
public enum FakeStreamRefusal
{
    /// <summary>The stream works.</summary>
    None,

    /// <summary>POST and PUT of the listenKey answer 401 -2015 (an API key without the permission).</summary>
    ListenKeyForbidden,

    /// <summary>Handshakes carrying the account's key answer HTTP 503.</summary>
    HandshakeUnavailable,

    /// <summary>Handshakes succeed, then the server closes at once with 1008 (policy violation).</summary>
    ClosedAfterUpgrade,

    /// <summary>The exchange has no stream endpoint at all: every stream path answers 404 (per account: its handshakes).</summary>
    EndpointMissing,
}
