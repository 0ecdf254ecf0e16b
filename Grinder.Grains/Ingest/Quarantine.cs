using Grinder.Grains.Binance;
using Grinder.Grains.Metrics;

namespace Grinder.Grains.Ingest;

/// <summary>
/// The bounded list of rows that failed validation, kept in the account state for <c>/healthz</c>, with its counts and its
/// per-symbol view. A row is counted (one <c>parse</c> error in <see cref="FillIngestState.Errors"/>) when it first enters:
/// the same row read again (a re-read, the re-scan) is not counted twice while it is still listed. Oldest rows are dropped
/// first; the count stays.
/// </summary>
public static class Quarantine
{
    /// <summary>Adds the rows not already listed and counts them; returns them (the caller logs exactly these).</summary>
    public static IReadOnlyList<RejectedRow> Add(FillIngestState state, IEnumerable<RejectedRow> rows, int limit, long nowMs)
    {
        ArgumentNullException.ThrowIfNull(state);
        List<RejectedRow>? added = null;
        foreach (var row in rows)
        {
            if (state.Quarantine.Exists(held => held.Symbol == row.Symbol && held.TradeId == row.TradeId && held.Reason == row.Reason && held.Raw == row.Raw))
            {
                continue;
            }

            state.Quarantine.Add(new QuarantinedRow(row.Symbol, row.TradeId, row.Reason, row.Raw, nowMs));
            (added ??= []).Add(row);
        }

        if (added is not null)
        {
            state.Errors[MetricLabels.Reason.Parse] = state.Errors.GetValueOrDefault(MetricLabels.Reason.Parse) + added.Count;
        }

        if (state.Quarantine.Count > limit)
        {
            state.Quarantine.RemoveRange(0, state.Quarantine.Count - limit);
        }

        return (IReadOnlyList<RejectedRow>?)added ?? [];
    }

    /// <summary>
    /// After a write conflict: rows this activation quarantined that the adopted state lacks go into it (it keeps reading
    /// from its own position, past them, so nothing would bring them back), counted there. Returns how many were added.
    /// </summary>
    public static int Merge(FillIngestState adopted, IEnumerable<QuarantinedRow> ours, int limit)
    {
        ArgumentNullException.ThrowIfNull(adopted);
        var added = 0;
        foreach (var row in ours)
        {
            added += Add(adopted, [new RejectedRow(row.Symbol, row.TradeId, null, row.Reason, row.Raw)], limit, row.SeenAtMs).Count;
        }

        return added;
    }

    /// <summary>The listed rows, oldest first: a copy, for <c>/healthz</c>.</summary>
    public static IReadOnlyList<QuarantinedRow> Rows(FillIngestState state) => [.. state.Quarantine];

    /// <summary>Rows listed for <paramref name="symbol"/>.</summary>
    public static int CountFor(FillIngestState state, string symbol) => state.Quarantine.Count(row => row.Symbol == symbol);
}
