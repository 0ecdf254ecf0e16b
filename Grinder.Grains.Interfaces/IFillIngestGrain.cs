using Orleans.Concurrency;

namespace Grinder.Grains;

/// <summary>Polls one account's fills on a timer and keeps its cursors and counters (key: <c>acct-&lt;account id&gt;</c>).</summary>
public interface IFillIngestGrain : IGrainWithStringKey
{
    /// <summary>Activates the grain (and its poll timer) if needed; the keeper calls this so polling survives a lost silo.</summary>
    Task EnsurePollingAsync();

    /// <summary>Runs one poll now, outside the timer's rhythm (admin "poll now"; tests).</summary>
    Task PollNowAsync();

    /// <summary>Moves the fetch cursor of <paramref name="symbol"/> (all symbols when null) back to a bootstrap start; never the counted high-water mark, so re-read trades are not counted again.</summary>
    Task ResetCursorAsync(string? symbol, DateTimeOffset? from);

    /// <summary>Cursor, last poll, last error and quarantine per symbol.</summary>
    /// <remarks>Interleaves with a running poll (it only reads), so <c>/healthz</c> answers while a slow exchange holds a tick.</remarks>
    [AlwaysInterleave]
    Task<AccountHealth> GetHealthAsync();

    /// <summary>The counters as last saved (or as held, while storage fails).</summary>
    [AlwaysInterleave]
    Task<AccountSnapshot> GetSnapshotAsync();
}
