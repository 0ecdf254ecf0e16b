namespace Grinder.Grains;

/// <summary>
/// An account's health counters (not its fills, which the ledger counts): polls, errors by reason, state loads and saves by
/// result, stream events by result, amount mismatches. Either the counters of one saved state or the increments of one
/// activation that no saved state holds yet (<see cref="PendingCounters"/>).
/// </summary>
[GenerateSerializer, Immutable]
public sealed record HealthCounters(
    [property: Id(0)] long Polls,
    [property: Id(1)] IReadOnlyDictionary<string, long> Errors,
    [property: Id(2)] IReadOnlyDictionary<string, long> CursorLoads,
    [property: Id(3)] IReadOnlyDictionary<string, long> CursorSaves,
    [property: Id(4)] IReadOnlyDictionary<string, long> StreamEvents,
    [property: Id(5)] long AmountMismatches)
{
    private static readonly IReadOnlyDictionary<string, long> Empty = new Dictionary<string, long>(StringComparer.Ordinal);

    public static HealthCounters Zero { get; } = new(0, Empty, Empty, Empty, Empty, 0);

    /// <summary>Nothing counted.</summary>
    public bool IsZero => Polls == 0 && AmountMismatches == 0
        && Errors.Values.All(n => n == 0) && CursorLoads.Values.All(n => n == 0) && CursorSaves.Values.All(n => n == 0) && StreamEvents.Values.All(n => n == 0);

    public HealthCounters Add(HealthCounters other) => Combine(other, +1);

    public HealthCounters Subtract(HealthCounters other) => Combine(other, -1);

    private HealthCounters Combine(HealthCounters other, int sign) => new(
        Polls + (sign * other.Polls),
        Combine(Errors, other.Errors, sign),
        Combine(CursorLoads, other.CursorLoads, sign),
        Combine(CursorSaves, other.CursorSaves, sign),
        Combine(StreamEvents, other.StreamEvents, sign),
        AmountMismatches + (sign * other.AmountMismatches));

    private static Dictionary<string, long> Combine(IReadOnlyDictionary<string, long> left, IReadOnlyDictionary<string, long> right, int sign)
    {
        var sum = new Dictionary<string, long>(left, StringComparer.Ordinal);
        foreach (var (key, value) in right)
        {
            sum[key] = sum.GetValueOrDefault(key) + (sign * value);
        }

        return sum;
    }
}
