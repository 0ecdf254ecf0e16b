namespace Grinder.Grains.Ingest;

/// <summary>Whether a symbol under reconciliation is to be read now.</summary>
public enum ReconcileUrgency
{
    /// <summary>Read within the current round already.</summary>
    NotDue,

    /// <summary>A round has passed since its last read: read when the paced reconciliation share has room.</summary>
    Due,

    /// <summary>A quarter of a round more has passed: read with the backlog share, so no pair waits behind the others.</summary>
    Overdue,
}

/// <summary>
/// How often REST reads each symbol of an account whose stream is healthy, given every such pair on this silo. Binance counts
/// weight per IP (2,400 a minute, of which the silo takes its share): at weight 5 per read, one read per pair per
/// <see cref="StreamOptions.ReconcileInterval"/> may not fit, so a round over all pairs then takes longer. One per silo.
/// </summary>
public sealed class ReconcileSchedule
{
    /// <summary>Weight of one <c>GET /fapi/v1/userTrades</c> (Binance docs).</summary>
    public const int ReadWeight = 5;

    // Every account reports on every tick: the total is kept as reports arrive, not summed over all accounts each time
    // (that would cost O(accounts) per tick, O(accounts²) per poll interval).
    private readonly Dictionary<string, int> _streamingPairs = new(StringComparer.Ordinal);
    private readonly Lock _gate = new();
    private int _total;

    /// <summary>Pairs of accounts on this silo whose stream is healthy now.</summary>
    public int StreamingPairs => Volatile.Read(ref _total);

    /// <summary>Records how many pairs <paramref name="account"/> has under reconciliation (0 when its stream is down).</summary>
    public void Report(string account, int pairs)
    {
        lock (_gate)
        {
            var held = _streamingPairs.GetValueOrDefault(account);
            if (pairs <= 0)
            {
                _streamingPairs.Remove(account);
                pairs = 0;
            }
            else
            {
                _streamingPairs[account] = pairs;
            }

            Volatile.Write(ref _total, _total + pairs - held);
        }
    }

    /// <summary>
    /// The time one reconciliation round over all streaming pairs takes: <paramref name="interval"/>, or longer when
    /// <c>pairs × 5</c> weight per round does not fit into <paramref name="share"/> of the silo's <paramref name="budgetPerMinute"/>.
    /// </summary>
    public static TimeSpan RoundLength(int pairs, int budgetPerMinute, double share, TimeSpan interval)
    {
        var perMinute = Math.Max(1, budgetPerMinute * share);
        var needed = TimeSpan.FromMinutes(pairs * (double)ReadWeight / perMinute);
        return needed > interval ? needed : interval;
    }

    /// <summary>
    /// Whether a symbol last read <paramref name="sinceLastReadMs"/> ago is to be read in a round of <paramref name="round"/>.
    /// The paced share opens over each minute, so an account whose ticks fall where others have just taken what opened can
    /// miss it round after round (seen at 1,000 pairs: 45 pairs unread for 16 minutes); past a quarter round late a symbol
    /// takes the backlog share instead, so every pair is read within 1.25 rounds.
    /// </summary>
    public static ReconcileUrgency Urgency(long sinceLastReadMs, TimeSpan round)
    {
        var roundMs = (long)round.TotalMilliseconds;
        return sinceLastReadMs >= roundMs + (roundMs / 4) ? ReconcileUrgency.Overdue
            : sinceLastReadMs >= roundMs ? ReconcileUrgency.Due
            : ReconcileUrgency.NotDue;
    }

    /// <summary>The current round length on this silo.</summary>
    public TimeSpan CurrentRound(int budgetPerMinute, StreamOptions options) =>
        RoundLength(StreamingPairs, budgetPerMinute, options.ReconcileShare, options.ReconcileInterval);
}
