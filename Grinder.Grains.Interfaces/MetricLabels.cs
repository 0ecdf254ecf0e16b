using System.Collections.Frozen;
using System.Reflection;
using System.Text.Json;
using System.Text.Json.Serialization;
using Grinder.Grains.Binance;

namespace Grinder.Grains;

// The label vocabulary of the fill metrics, in one file: every value the account grain counts under, the metrics grain sums
// by and the exporter writes. Each value's text is the runbook's label value and is written once, in its
// JsonStringEnumMemberName: stored states (JSON) carry that text too, so a state written by an earlier version, which
// keyed its counters by the same text, loads unchanged.

/// <summary>Metric label <c>source</c>: which kind of account counted it.</summary>
[GenerateSerializer]
[JsonConverter(typeof(LabelJsonConverter<FillSource>))]
public enum FillSource
{
    /// <summary>A real exchange account.</summary>
    [JsonStringEnumMemberName("reconcile")]
    Reconcile,

    /// <summary>Demo or paper trading.</summary>
    [JsonStringEnumMemberName("sim")]
    Sim,

    /// <summary>An account an operator added by hand.</summary>
    [JsonStringEnumMemberName("manual")]
    Manual,
}

/// <summary>Metric label <c>reason</c> of <c>grinder_fill_ingest_errors_total</c>.</summary>
[GenerateSerializer]
[JsonConverter(typeof(LabelJsonConverter<ErrorReason>))]
public enum ErrorReason
{
    /// <summary>The exchange could not be read (transport, status, rate limit).</summary>
    [JsonStringEnumMemberName("http")]
    Http,

    /// <summary>The exchange answered with a body or row that does not parse (the row is quarantined).</summary>
    [JsonStringEnumMemberName("parse")]
    Parse,

    /// <summary>Stored state could not be loaded or saved, or a save would have moved a read position back.</summary>
    [JsonStringEnumMemberName("cursor")]
    Cursor,

    /// <summary>Anything else.</summary>
    [JsonStringEnumMemberName("unknown")]
    Unknown,
}

/// <summary>Metric label <c>result</c> of <c>grinder_fill_cursor_load_total</c> (ok, error) and <c>grinder_fill_cursor_save_total</c>.</summary>
[GenerateSerializer]
[JsonConverter(typeof(LabelJsonConverter<CursorResult>))]
public enum CursorResult
{
    [JsonStringEnumMemberName("ok")]
    Ok,

    [JsonStringEnumMemberName("error")]
    Error,

    /// <summary>A save refused because it would have moved a read position back (saves only).</summary>
    [JsonStringEnumMemberName("rejected_non_monotonic")]
    RejectedNonMonotonic,
}

/// <summary>Metric label <c>result</c> of <c>grinder_fill_stream_events_total</c>.</summary>
[GenerateSerializer]
[JsonConverter(typeof(LabelJsonConverter<StreamEventResult>))]
public enum StreamEventResult
{
    /// <summary>A fill first seen on the stream, now in the ledger.</summary>
    [JsonStringEnumMemberName("recorded")]
    Recorded,

    /// <summary>A fill the ledger or a recent read already held.</summary>
    [JsonStringEnumMemberName("duplicate")]
    Duplicate,

    /// <summary>An event that does not parse into a fill.</summary>
    [JsonStringEnumMemberName("rejected")]
    Rejected,

    /// <summary>A fill the ledger held with other amounts (the first-seen values stay).</summary>
    [JsonStringEnumMemberName("mismatch")]
    Mismatch,
}

/// <summary>One (side, liquidity) bucket of an account's fill totals: labels <c>side</c> and <c>liquidity</c> of the fill families.</summary>
[GenerateSerializer, Immutable]
[JsonConverter(typeof(FillBucketJsonConverter))]
public readonly record struct FillBucket(
    [property: Id(0)] FillSide Side,
    [property: Id(1)] FillLiquidity Liquidity)
{
    /// <summary>Every bucket, in label order.</summary>
    public static IReadOnlyList<FillBucket> All { get; } =
        [new(FillSide.Buy, FillLiquidity.Maker), new(FillSide.Buy, FillLiquidity.Taker), new(FillSide.Sell, FillLiquidity.Maker), new(FillSide.Sell, FillLiquidity.Taker)];

    /// <summary>The stored form, e.g. <c>buy|taker</c>: how states have keyed their fill totals since the first version.</summary>
    public override string ToString() => $"{Side.Label()}|{Liquidity.Label()}";

    /// <summary>Reads the stored form written by <see cref="ToString"/>; false for anything else.</summary>
    public static bool TryParse(string? text, out FillBucket bucket)
    {
        bucket = default;
        foreach (var candidate in All)
        {
            if (string.Equals(text, candidate.ToString(), StringComparison.Ordinal))
            {
                bucket = candidate;
                return true;
            }
        }

        return false;
    }
}

/// <summary>One series of a family labelled by <c>source</c> and one more label (reason or result).</summary>
[GenerateSerializer, Immutable]
public readonly record struct SourceSeries<TLabel>(
    [property: Id(0)] FillSource Source,
    [property: Id(1)] TLabel Label)
    where TLabel : struct, Enum;

/// <summary>One series of the fill families: <c>source</c>, <c>side</c>, <c>liquidity</c>.</summary>
[GenerateSerializer, Immutable]
public readonly record struct FillSeries(
    [property: Id(0)] FillSource Source,
    [property: Id(1)] FillBucket Bucket);

/// <summary>The runbook text of each label value (the text its <c>JsonStringEnumMemberName</c> gives it).</summary>
public static class MetricLabels
{
    public static string Label(this FillSource value) => Text<FillSource>.Of(value);

    public static string Label(this ErrorReason value) => Text<ErrorReason>.Of(value);

    public static string Label(this CursorResult value) => Text<CursorResult>.Of(value);

    public static string Label(this StreamEventResult value) => Text<StreamEventResult>.Of(value);

    /// <summary>Label <c>side</c>: <c>buy</c> or <c>sell</c> (the ledger's totals store it the same way).</summary>
    public static string Label(this FillSide side) => side == FillSide.Buy ? "buy" : "sell";

    /// <summary>Label <c>liquidity</c>: <c>maker</c> or <c>taker</c> (the ledger stores it the same way).</summary>
    public static string Label(this FillLiquidity liquidity) => liquidity == FillLiquidity.Maker ? "maker" : "taker";

    /// <summary>The source whose label is <paramref name="text"/> (configuration spells sources by their labels).</summary>
    public static bool TryParseSource(string? text, out FillSource source) => Text<FillSource>.TryParse(text, out source);

    /// <summary>The label values of a series, in the order of the family's label names.</summary>
    public static string[] Labels<TLabel>(this SourceSeries<TLabel> series)
        where TLabel : struct, Enum => [series.Source.Label(), Text<TLabel>.Of(series.Label)];

    /// <summary>The label values of a fill series: source, side, liquidity.</summary>
    public static string[] Labels(this FillSeries series) => [series.Source.Label(), series.Bucket.Side.Label(), series.Bucket.Liquidity.Label()];

    private static class Text<T>
        where T : struct, Enum
    {
        private static readonly FrozenDictionary<T, string> Labels = typeof(T)
            .GetFields(BindingFlags.Public | BindingFlags.Static)
            .ToFrozenDictionary(
                field => (T)field.GetValue(null)!,
                field => field.GetCustomAttribute<JsonStringEnumMemberNameAttribute>()?.Name
                    ?? throw new InvalidOperationException($"{typeof(T).Name}.{field.Name} has no label text."));

        private static readonly FrozenDictionary<string, T> Values = Labels.ToFrozenDictionary(pair => pair.Value, pair => pair.Key, StringComparer.Ordinal);

        public static string Of(T value) => Labels.TryGetValue(value, out var text)
            ? text
            : throw new ArgumentOutOfRangeException(nameof(value), value, $"Not a {typeof(T).Name} label.");

        public static bool TryParse(string? text, out T value)
        {
            value = default;
            return text is not null && Values.TryGetValue(text, out value);
        }
    }
}

/// <summary>
/// Stores a label value as its text (its <c>JsonStringEnumMemberName</c>), also as a dictionary key. A number is refused, as
/// any other text is: it would load as a value outside the vocabulary, which no series can be labelled with.
/// </summary>
public sealed class LabelJsonConverter<T>() : JsonStringEnumConverter<T>(namingPolicy: null, allowIntegerValues: false)
    where T : struct, Enum;

/// <summary>
/// Stores a <see cref="FillBucket"/> as its text (<c>buy|taker</c>), also as a dictionary key: the form every version has
/// stored fill totals in. Any other text is refused as invalid JSON, never read as some bucket.
/// </summary>
public sealed class FillBucketJsonConverter : JsonConverter<FillBucket>
{
    public override FillBucket Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options) => Parse(reader.GetString());

    public override void Write(Utf8JsonWriter writer, FillBucket value, JsonSerializerOptions options)
    {
        ArgumentNullException.ThrowIfNull(writer);
        writer.WriteStringValue(value.ToString());
    }

    public override FillBucket ReadAsPropertyName(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options) => Parse(reader.GetString());

    public override void WriteAsPropertyName(Utf8JsonWriter writer, FillBucket value, JsonSerializerOptions options)
    {
        ArgumentNullException.ThrowIfNull(writer);
        writer.WritePropertyName(value.ToString());
    }

    private static FillBucket Parse(string? text) =>
        FillBucket.TryParse(text, out var bucket) ? bucket : throw new JsonException($"'{text}' is not a fill bucket (side|liquidity).");
}
