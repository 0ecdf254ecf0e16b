namespace Grinder.Grains;

/// <summary>A saved state's mark that save attempt <paramref name="Epoch"/> of activation <paramref name="ActivationId"/> carried its pending counts.</summary>
[GenerateSerializer, Immutable]
public sealed record PendingFold(
    [property: Id(0)] string ActivationId,
    [property: Id(1)] long Epoch);
