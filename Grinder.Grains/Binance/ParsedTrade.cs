namespace Grinder.Grains.Binance;

/// <summary>One validated row of <c>GET /fapi/v1/userTrades</c>. Numbers are decimals parsed from Binance's strings.</summary>
public sealed record ParsedTrade(
    string Symbol,
    long Id,
    long OrderId,
    FillSide Side,
    FillLiquidity Liquidity,
    decimal Price,
    decimal Qty,
    decimal QuoteQty,
    decimal RealizedPnl,
    decimal Commission,
    string CommissionAsset,
    long TimeMs,
    string PositionSide)
{
    /// <summary>Notional is qty × price, not Binance's quoteQty, so both sides agree on one rule.</summary>
    public decimal Notional => Qty * Price;
}

/// <summary>A row that failed validation: counted as a parse error and kept (bounded) for /healthz, never counted as a fill.</summary>
/// <param name="TradeId">The row's id when it could be read, so the cursor can move past it.</param>
/// <param name="Raw">The raw JSON of the row, truncated to a safe length.</param>
public sealed record RejectedRow(string Symbol, long? TradeId, long? TimeMs, string Reason, string Raw);
