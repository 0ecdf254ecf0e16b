namespace Grinder.Grains;

/// <summary>
/// An account's health counters (not its fills, which the ledger counts): polls, errors by reason, state loads and saves by
/// result, stream events by result, amount mismatches. Either the counters of one saved state or the increments of one
/// activation that no saved state holds yet (<see cref="PendingCounters"/>).
/// </summary>
[GenerateSerializer, Immutable]
public sealed record HealthCounters(
    [property: Id(0)] long Polls,
    // Ids 1 to 4 held these counters keyed by label text; not to be reused.
    [property: Id(6)] IReadOnlyDictionary<ErrorReason, long> Errors,
    [property: Id(7)] IReadOnlyDictionary<CursorResult, long> CursorLoads,
    [property: Id(8)] IReadOnlyDictionary<CursorResult, long> CursorSaves,
    [property: Id(9)] IReadOnlyDictionary<StreamEventResult, long> StreamEvents,
    [property: Id(5)] long AmountMismatches)
{
    public static HealthCounters Zero { get; } = new(0, new Dictionary<ErrorReason, long>(), new Dictionary<CursorResult, long>(), new Dictionary<CursorResult, long>(), new Dictionary<StreamEventResult, long>(), 0);

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

    private static Dictionary<TLabel, long> Combine<TLabel>(IReadOnlyDictionary<TLabel, long> left, IReadOnlyDictionary<TLabel, long> right, int sign)
        where TLabel : struct, Enum
    {
        var sum = new Dictionary<TLabel, long>(left);
        foreach (var (key, value) in right)
        {
            sum[key] = sum.GetValueOrDefault(key) + (sign * value);
        }

        return sum;
    }
}
