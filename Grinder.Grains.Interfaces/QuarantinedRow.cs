namespace Grinder.Grains;

/// <summary>A trade row that failed validation: never counted, kept (bounded) for <c>/healthz</c>.</summary>
/// <param name="Raw">The raw row, truncated; Binance rows carry no secrets.</param>
[GenerateSerializer, Immutable]
public sealed record QuarantinedRow(
    [property: Id(0)] string Symbol,
    [property: Id(1)] long? TradeId,
    [property: Id(2)] string Reason,
    [property: Id(3)] string Raw,
    [property: Id(4)] long SeenAtMs);
