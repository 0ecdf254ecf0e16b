using Grinder.Grains;
using Grinder.Grains.Binance;
using Grinder.Grains.Ingest;
using Microsoft.Extensions.Options;
using Orleans.Serialization;
using Orleans.Storage;

namespace Grinder.Tests.Metrics;

/// <summary>
/// The metrics' typed label vocabulary: every value is written as the runbook's label text, Binance's failure kinds count
/// under the runbook's reasons, and states stored before the counters were typed (keyed by that same text) still load.
/// </summary>
public sealed class MetricLabelsTests
{
    // The storage serializer both hosting modes use, with the options they use.
    private static readonly SystemTextJsonGrainStorageSerializer Storage = new(Options.Create(new SystemTextJsonGrainStorageSerializerOptions()));

    [Theory]
    [InlineData(BinanceFailureKind.Http, ErrorReason.Http)]
    [InlineData(BinanceFailureKind.Parse, ErrorReason.Parse)]
    [InlineData(BinanceFailureKind.Unexpected, ErrorReason.Unknown)]
    public void Each_failure_kind_counts_under_its_runbook_reason(BinanceFailureKind kind, ErrorReason reason)
    {
        Assert.Equal(reason, ErrorReasons.Of(kind));
    }

    [Fact]
    public void Every_label_value_is_written_as_the_runbooks_text()
    {
        // The runbook's alerts and checks select by these texts; each value has one, and no two share it.
        Assert.Equal(["reconcile", "sim", "manual"], Enum.GetValues<FillSource>().Select(value => value.Label()));
        Assert.Equal(["http", "parse", "cursor", "unknown"], Enum.GetValues<ErrorReason>().Select(value => value.Label()));
        Assert.Equal(["ok", "error", "rejected_non_monotonic"], Enum.GetValues<CursorResult>().Select(value => value.Label()));
        Assert.Equal(["recorded", "duplicate", "rejected", "mismatch"], Enum.GetValues<StreamEventResult>().Select(value => value.Label()));
        Assert.Equal(["buy|maker", "buy|taker", "sell|maker", "sell|taker"], FillBucket.All.Select(bucket => bucket.ToString()));
    }

    [Fact]
    public void A_series_gives_its_label_values_in_the_familys_label_order()
    {
        Assert.Equal(["sim", "rejected_non_monotonic"], new SourceSeries<CursorResult>(FillSource.Sim, CursorResult.RejectedNonMonotonic).Labels());
        Assert.Equal(["reconcile", "sell", "maker"], new FillSeries(FillSource.Reconcile, new FillBucket(FillSide.Sell, FillLiquidity.Maker)).Labels());
    }

    [Fact]
    public void A_configured_source_is_read_by_its_label_and_anything_else_is_refused()
    {
        Assert.True(MetricLabels.TryParseSource("sim", out var sim));
        Assert.Equal(FillSource.Sim, sim);
        Assert.False(MetricLabels.TryParseSource("Sim", out _));
        Assert.False(MetricLabels.TryParseSource("paper", out _));
        Assert.False(MetricLabels.TryParseSource(null, out _));
    }

    [Fact]
    public void A_bucket_reads_back_from_its_stored_form_and_anything_else_is_refused()
    {
        foreach (var bucket in FillBucket.All)
        {
            Assert.True(FillBucket.TryParse(bucket.ToString(), out var read));
            Assert.Equal(bucket, read);
        }

        Assert.False(FillBucket.TryParse("buy", out _));
        Assert.False(FillBucket.TryParse("buy|maker|x", out _));
        Assert.False(FillBucket.TryParse("long|maker", out _));
        Assert.False(FillBucket.TryParse(null, out _));
    }

    [Fact]
    public void An_account_state_stored_with_text_keys_loads_into_typed_counters_and_is_stored_the_same_way_again()
    {
        // An account's stored state as the versions before typed counters wrote it (the names and texts below).
        const string stored = """
            {"Symbols":{},"Fills":{"buy|taker":{"Count":3,"Notional":30.5,"Fees":0.3,"Rebates":0}},"Polls":12,
             "Errors":{"http":2,"parse":1},"CursorLoads":{"ok":1},"CursorSaves":{"ok":11,"rejected_non_monotonic":1},
             "StreamEvents":{"recorded":4,"mismatch":1},"SaveCount":11,"LedgerFormat":1}
            """;

        var state = Storage.Deserialize<FillIngestState>(BinaryData.FromString(stored))!;

        Assert.Equal(2, state.Errors[ErrorReason.Http]);
        Assert.Equal(1, state.Errors[ErrorReason.Parse]);
        Assert.Equal(1, state.CursorLoads[CursorResult.Ok]);
        Assert.Equal(1, state.CursorSaves[CursorResult.RejectedNonMonotonic]);
        Assert.Equal(1, state.StreamEvents[StreamEventResult.Mismatch]);
        Assert.Equal(30.5m, state.Fills["buy|taker"].Notional);

        var written = Storage.Serialize(state).ToString();
        Assert.Contains("\"Errors\":{\"http\":2,\"parse\":1}", written, StringComparison.Ordinal);
        Assert.Contains("\"CursorSaves\":{\"ok\":11,\"rejected_non_monotonic\":1}", written, StringComparison.Ordinal);
        Assert.Contains("\"StreamEvents\":{\"recorded\":4,\"mismatch\":1}", written, StringComparison.Ordinal);
    }

    [Fact]
    public void A_metrics_state_stored_with_text_keys_loads_into_typed_snapshots()
    {
        // The metrics grain's persisted copy as the versions before typed counters wrote it.
        const string stored = """
            {"Accounts":{"acct-a":{"AccountId":"acct-a","Source":"sim","Version":3000000,
              "Fills":{"sell|maker":{"Count":2,"Notional":20,"Fees":0,"Rebates":0.02}},"Polls":5,
              "Errors":{"cursor":1},"CursorLoads":{"ok":1,"error":1},"CursorSaves":{"ok":3},"LastSaveUnixMs":1700000000000,
              "Polling":true,"StreamEvents":{"duplicate":2},"Pending":null,"Folded":[]}},
             "Pending":{"acct-a":[{"ActivationId":"x","Epoch":4,"Sequence":9,"Counters":{"Polls":1,"Errors":{"http":1},
              "CursorLoads":{},"CursorSaves":{"error":1},"StreamEvents":{},"AmountMismatches":0}}]}}
            """;

        var state = Storage.Deserialize<FillMetricsState>(BinaryData.FromString(stored))!;

        var snapshot = state.Accounts["acct-a"];
        Assert.Equal(FillSource.Sim, snapshot.Source);
        Assert.Equal(0.02m, snapshot.Fills[new FillBucket(FillSide.Sell, FillLiquidity.Maker)].Rebates);
        Assert.Equal(1, snapshot.Errors[ErrorReason.Cursor]);
        Assert.Equal(1, snapshot.CursorLoads[CursorResult.Error]);
        Assert.Equal(2, snapshot.StreamEvents![StreamEventResult.Duplicate]);
        var pending = Assert.Single(state.Pending["acct-a"]).Counters;
        Assert.Equal(1, pending.Errors[ErrorReason.Http]);
        Assert.Equal(1, pending.CursorSaves[CursorResult.Error]);

        var written = Storage.Serialize(state).ToString();
        Assert.Contains("\"Source\":\"sim\"", written, StringComparison.Ordinal);
        Assert.Contains("\"Fills\":{\"sell|maker\":", written, StringComparison.Ordinal);
    }

    [Fact]
    public void A_stored_key_outside_the_vocabulary_is_refused_as_invalid_rather_than_read_as_some_other_label()
    {
        var error = Assert.ThrowsAny<Exception>(() => Storage.Deserialize<FillIngestState>(BinaryData.FromString("""{"Errors":{"timeout":1}}""")));
        Assert.Contains("Errors", error.ToString(), StringComparison.Ordinal);

        // A number is no label either: read as one, it would be a value outside the vocabulary, and no scrape could label it.
        Assert.ThrowsAny<Exception>(() => Storage.Deserialize<FillIngestState>(BinaryData.FromString("""{"Errors":{"9":1}}""")));
        Assert.ThrowsAny<Exception>(() => Storage.Deserialize<FillIngestState>(BinaryData.FromString("""{"CursorSaves":{"1":1}}""")));
        Assert.ThrowsAny<Exception>(() => Storage.Deserialize<FillMetricsState>(BinaryData.FromString("""{"Accounts":{"a":{"AccountId":"a","Source":7,"Version":1,"Fills":{},"Polls":0,"Errors":{},"CursorLoads":{},"CursorSaves":{},"LastSaveUnixMs":null,"Polling":true}}}""")));
        Assert.ThrowsAny<Exception>(() => Storage.Deserialize<FillMetricsState>(BinaryData.FromString("""{"Accounts":{"a":{"AccountId":"a","Source":"sim","Version":1,"Fills":{"long|maker":{"Count":1,"Notional":1,"Fees":0,"Rebates":0}},"Polls":0,"Errors":{},"CursorLoads":{},"CursorSaves":{},"LastSaveUnixMs":null,"Polling":true}}}""")));
    }
}
