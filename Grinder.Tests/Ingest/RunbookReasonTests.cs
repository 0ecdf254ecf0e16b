using Grinder.Grains.Binance;
using Grinder.Grains.Ingest;

namespace Grinder.Tests.Ingest;

/// <summary>Binance's failure kinds count under the runbook's <c>reason</c> labels (http/parse/cursor/unknown), which alerts select by.</summary>
public sealed class RunbookReasonTests
{
    [Theory]
    [InlineData(BinanceFailureKind.Http, "http")]
    [InlineData(BinanceFailureKind.Parse, "parse")]
    [InlineData(BinanceFailureKind.Unexpected, "unknown")]
    public void Each_failure_kind_counts_under_its_runbook_label(BinanceFailureKind kind, string label)
    {
        Assert.Equal(label, RunbookReason.Of(kind));
    }

    [Fact]
    public void Every_failure_kind_has_a_runbook_label()
    {
        Assert.All(Enum.GetValues<BinanceFailureKind>(), kind => Assert.Contains(RunbookReason.Of(kind), (string[])["http", "parse", "cursor", "unknown"]));
    }
}
