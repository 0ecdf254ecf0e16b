namespace Grinder.FakeBinance;

/// <summary>Seeded faults of the user data stream for one account (or all). Each event is drawn once: dropped (no connection of
/// the account gets it; see <see cref="FakeExchange.DroppedStreamEvents"/>), else held back and sent after the account's next
/// event (or after <see cref="FakeExchangeOptions.StreamReorderHoldLimit"/>), else duplicated (sent twice), else altered.</summary>
/// <param name="DropFraction">Share of ORDER_TRADE_UPDATE events never sent.</param>
/// <param name="DuplicateFraction">Share sent twice in a row.</param>
/// <param name="ReorderFraction">Share sent after the event that followed them.</param>
/// <param name="Seed">Seed of the draws (reproducible).</param>
/// <param name="AlterFraction">Share sent with amounts that differ from the REST row (commission + 0.01, realized PnL + 1): a
/// REST and stream mismatch; see <see cref="FakeExchange.AlteredStreamEvents"/>. userTrades keeps the true row.</param>
public sealed record FakeStreamFaults(double DropFraction = 0, double DuplicateFraction = 0, double ReorderFraction = 0, int Seed = 1, double AlterFraction = 0)
{
    /// <summary>Null when valid, else why not.</summary>
    internal string? Problem()
    {
        foreach (var (name, p) in new[] { ("DropFraction", DropFraction), ("DuplicateFraction", DuplicateFraction), ("ReorderFraction", ReorderFraction), ("AlterFraction", AlterFraction) })
        {
            if (double.IsNaN(p) || p is < 0 or > 1)
            {
                return $"{name} must be between 0 and 1 (got {p}).";
            }
        }

        return DropFraction + DuplicateFraction + ReorderFraction + AlterFraction > 1 ? "The stream fault fractions add up to more than 1." : null;
    }
}
