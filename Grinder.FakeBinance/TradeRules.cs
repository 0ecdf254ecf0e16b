namespace Grinder.FakeBinance;

/// <summary>What makes a <see cref="FakeTrade"/> a valid Binance USD-M row. Invalid rows go through <see cref="FakeExchange.AddRawRow"/>.</summary>
internal static class TradeRules
{
    private static readonly string[] PositionSides = ["BOTH", "LONG", "SHORT"];

    /// <summary>Null when valid, else why not. Zero id, order id and time are allowed: the exchange fills them in.</summary>
    public static string? Problem(FakeTrade trade) => trade switch
    {
        { Symbol: null or "" } => "Symbol is required.",
        { Side: not ("BUY" or "SELL") } => "Side must be BUY or SELL.",
        { Id: < 0 } or { OrderId: < 0 } or { TimeMs: < 0 } => "Id, OrderId and TimeMs must not be negative.",
        { Price: <= 0 } => "Price must be positive.",
        { Qty: <= 0 } => "Qty must be positive.",
        { QuoteQty: < 0 } => "QuoteQty must not be negative.",
        { CommissionAsset: null or "" } => "CommissionAsset is required.",
        _ when trade.Buyer != (trade.Side == "BUY") => "Buyer must be true exactly for the BUY side.",
        _ when !PositionSides.Contains(trade.PositionSide) => "PositionSide must be BOTH, LONG or SHORT.",
        _ => null,
    };
}
