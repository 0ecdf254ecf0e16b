namespace Grinder.FakeBinance;

/// <summary>One open user data stream connection as the fake sees it.</summary>
/// <param name="Id">Connection id for <see cref="FakeExchange.DisconnectStream"/>.</param>
/// <param name="Path"><c>/private/ws</c> or <c>/private/stream</c> (combined: payloads wrapped in <c>{"stream","data"}</c>).</param>
/// <param name="ApiKeys">Accounts whose keys the connection subscribed (an API key identifies an account in the fake).</param>
/// <param name="LiveApiKeys">Accounts whose keys have not expired on this connection: only these still get events.</param>
/// <param name="ConnectedAt">Server time of the upgrade.</param>
/// <param name="MessagesSent">Text frames sent so far (events, duplicates and listenKeyExpired).</param>
public sealed record FakeStreamConnection(
    long Id,
    string Path,
    IReadOnlyList<string> ApiKeys,
    IReadOnlyList<string> LiveApiKeys,
    DateTimeOffset ConnectedAt,
    long MessagesSent);
