namespace Grinder.Grains.Binance.Stream;

/// <summary>Outcome of a listenKey POST or PUT. The key is a credential: <see cref="ToString"/> never shows it.</summary>
/// <param name="ListenKey">The account's active key on success.</param>
/// <param name="KeyMissing">Binance answered -1125 ("This listenKey does not exist."): POST again.</param>
/// <param name="ErrorDetail">Operator-facing text on failure: path, status and Binance code, never the key.</param>
public sealed record ListenKeyResult(string? ListenKey, bool KeyMissing, string? ErrorDetail)
{
    public bool IsSuccess => ListenKey is not null;

    public override string ToString() => IsSuccess ? "ListenKeyResult(ok, ***)" : $"ListenKeyResult({(KeyMissing ? "-1125" : ErrorDetail)})";
}
