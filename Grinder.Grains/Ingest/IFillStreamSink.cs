namespace Grinder.Grains.Ingest;

/// <summary>The account grain's door for its own stream connection, which runs off the grain's scheduler.</summary>
public interface IFillStreamSink : IGrainWithStringKey
{
    /// <summary>Takes the stream events queued in the activation: records their fills in the ledger and reports the totals.</summary>
    Task DrainStreamAsync();
}
