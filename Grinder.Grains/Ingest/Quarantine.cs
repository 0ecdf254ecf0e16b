using Grinder.Grains.Binance;
using Grinder.Grains.Metrics;

namespace Grinder.Grains.Ingest;

/// <summary>
/// The bounded list of rows that failed validation, kept in the account state for <c>/healthz</c>, with its counts and its
/// per-symbol view. A row is counted (one <c>parse</c> error in the activation's <see cref="UnsavedCounts"/>, which its
/// next save carries into <see cref="FillIngestState.Errors"/>) when it first enters:
/// the same row read again (a re-read, the re-scan) is not counted twice. Oldest rows are dropped first; the count stays,
/// and <see cref="FillIngestState.QuarantineDropped"/> keeps the fingerprints of the newest <see cref="DroppedMemory"/> ×
/// limit dropped rows: more rows than the list holds stay within reach of the re-scan (every row of its window, each time)
/// or of the poll (rows no later trade confirms), and without it each re-read of a dropped row counted it again.
/// </summary>
public static class Quarantine
{
    /// <summary>Dropped rows remembered per row the list holds (1,000 at the default limit of 50).</summary>
    public const int DroppedMemory = 20;

    /// <summary>Adds the rows not already listed or dropped and counts them; returns them (the caller logs exactly these).</summary>
    public static IReadOnlyList<RejectedRow> Add(FillIngestState state, IEnumerable<RejectedRow> rows, int limit, long nowMs, UnsavedCounts counts)
    {
        ArgumentNullException.ThrowIfNull(state);
        ArgumentNullException.ThrowIfNull(counts);
        List<RejectedRow>? added = null;
        HashSet<long>? dropped = null;
        foreach (var row in rows)
        {
            if (state.Quarantine.Exists(held => held.Symbol == row.Symbol && held.TradeId == row.TradeId && held.Reason == row.Reason && held.Raw == row.Raw)
                || (dropped ??= [.. state.QuarantineDropped]).Contains(Fingerprint(row.Symbol, row.TradeId, row.Reason, row.Raw)))
            {
                continue;
            }

            state.Quarantine.Add(new QuarantinedRow(row.Symbol, row.TradeId, row.Reason, row.Raw, nowMs));
            (added ??= []).Add(row);
        }

        if (added is not null)
        {
            counts.Error(ErrorReason.Parse, added.Count);
        }

        if (state.Quarantine.Count > limit)
        {
            var gone = state.Quarantine.Count - limit;
            state.QuarantineDropped.AddRange(state.Quarantine.Take(gone).Select(held => Fingerprint(held.Symbol, held.TradeId, held.Reason, held.Raw)));
            state.Quarantine.RemoveRange(0, gone);
            var memory = limit * DroppedMemory;
            if (state.QuarantineDropped.Count > memory)
            {
                state.QuarantineDropped.RemoveRange(0, state.QuarantineDropped.Count - memory);
            }
        }

        return (IReadOnlyList<RejectedRow>?)added ?? [];
    }

    /// <summary>
    /// After a write conflict: rows this activation quarantined that the adopted state lacks go into it (it keeps reading
    /// from its own position, past them, so nothing would bring them back). They are counted in this activation's pending
    /// counts already; a row the other writer listed (or dropped) too was counted by it as well, so it comes out of ours.
    /// <paramref name="written"/> is the list as last written by this activation (what it counted before is saved).
    /// Returns how many rows were added.
    /// </summary>
    public static int Merge(FillIngestState adopted, IEnumerable<QuarantinedRow> ours, IReadOnlyList<QuarantinedRow> written, int limit, UnsavedCounts counts)
    {
        ArgumentNullException.ThrowIfNull(adopted);
        ArgumentNullException.ThrowIfNull(counts);
        var added = 0;
        var ignored = new UnsavedCounts();
        foreach (var row in ours)
        {
            var entered = Add(adopted, [new RejectedRow(row.Symbol, row.TradeId, null, row.Reason, row.Raw)], limit, row.SeenAtMs, ignored).Count;
            added += entered;
            if (entered == 0 && !written.Contains(row))
            {
                counts.Uncount(ErrorReason.Parse);
            }
        }

        return added;
    }

    /// <summary>The listed rows, oldest first: a copy, for <c>/healthz</c>.</summary>
    public static IReadOnlyList<QuarantinedRow> Rows(FillIngestState state) => [.. state.Quarantine];

    /// <summary>Rows listed for <paramref name="symbol"/>.</summary>
    public static int CountFor(FillIngestState state, string symbol) => state.Quarantine.Count(row => row.Symbol == symbol);

    // FNV-1a (64 bit) over the row's identity: stable across processes and versions, unlike string.GetHashCode.
    private static long Fingerprint(string symbol, long? tradeId, string reason, string raw)
    {
        var hash = 14695981039346656037UL;
        foreach (var part in new[] { symbol, tradeId?.ToString(System.Globalization.CultureInfo.InvariantCulture) ?? "-", reason, raw })
        {
            foreach (var c in part)
            {
                hash = (hash ^ c) * 1099511628211UL;
            }

            hash = (hash ^ 0x1F) * 1099511628211UL;
        }

        return unchecked((long)hash);
    }
}
