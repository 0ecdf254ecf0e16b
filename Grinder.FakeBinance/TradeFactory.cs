namespace Grinder.FakeBinance;

/// <summary>Deterministic, plausible USD-M fills: the same seed and tail give the same rows.</summary>
internal static class TradeFactory
{
    /// <summary>First trade id of a fresh symbol. Every symbol starts here, so ids overlap across symbols like on Binance (ids are per symbol).</summary>
    public const long FirstTradeId = 1_000_001;

    private const long FirstOrderId = 8_000_000_001;

    /// <summary>Average spacing of generated trades when no start time is given.</summary>
    private const long DefaultSpacingMs = 400;

    public static IReadOnlyList<FakeTrade> Generate(string symbol, SymbolTail tail, int count, int seed, double selfTradePairFraction, long nowMs, long? startTimeMs)
    {
        var random = new Random(unchecked(seed * 397 ^ StableHash(symbol)));
        var trades = new List<FakeTrade>(count + (int)(count * selfTradePairFraction) + 1);
        var id = tail.LastId == 0 ? FirstTradeId : tail.LastId + 1;
        var orderId = tail.LastOrderId == 0 ? FirstOrderId : tail.LastOrderId + 1;
        var price = tail.LastPrice ?? BasePrice(symbol);

        // Ids and times both ascend on an exchange, so new rows never start before the symbol's last row.
        var from = Math.Max(startTimeMs ?? nowMs - (count * DefaultSpacingMs), tail.LastTimeMs);
        var to = Math.Max(nowMs, from);
        var step = (to - from) / (double)Math.Max(count, 1);
        var previousTime = from;
        for (var i = 0; i < count; i++, id++)
        {
            var time = Math.Clamp(from + (long)(step * (i + 0.1 + (0.9 * random.NextDouble()))), previousTime, to);
            previousTime = time;
            price = Walk(price, random);
            var qty = Quantity(price, random);
            if (random.NextDouble() < selfTradePairFraction)
            {
                // A self-trade: the account is on both sides of one trade id, with two orders, one maker and one taker.
                var buyIsMaker = random.Next(2) == 0;
                trades.Add(Row(symbol, id, orderId++, "BUY", price, qty, buyIsMaker, time, random));
                trades.Add(Row(symbol, id, orderId++, "SELL", price, qty, !buyIsMaker, time, random));
            }
            else
            {
                var side = random.Next(2) == 0 ? "BUY" : "SELL";
                trades.Add(Row(symbol, id, orderId, side, price, qty, random.NextDouble() < 0.6, time, random));
                orderId += 1 + random.Next(3);
            }
        }

        return trades;
    }

    private static FakeTrade Row(string symbol, long id, long orderId, string side, decimal price, decimal qty, bool maker, long time, Random random)
    {
        var quoteQty = price * qty;

        // Taker 0.05 %, maker 0.02 %; one maker fill in ten earns a rebate (negative commission).
        var rate = maker ? (random.NextDouble() < 0.1 ? -0.00005m : 0.0002m) : 0.0005m;
        var commission = Math.Round(quoteQty * rate, 8);
        var realizedPnl = random.Next(2) == 0 ? 0m : Math.Round(quoteQty * (decimal)((random.NextDouble() - 0.5) * 0.02), 8);
        return new FakeTrade(symbol, id, orderId, side, price, qty, quoteQty, realizedPnl, commission, "USDT", time, side == "BUY", maker, "BOTH");
    }

    private static decimal Walk(decimal price, Random random)
    {
        var next = price * (1m + (decimal)((random.NextDouble() - 0.5) * 0.001));
        return Math.Max(Math.Round(next, next < 10m ? 5 : 2), 0.00001m);
    }

    private static decimal Quantity(decimal price, Random random)
    {
        var notional = 20m + (decimal)(random.NextDouble() * 1980);
        return Math.Max(Math.Round(notional / price, 3), 0.001m);
    }

    private static decimal BasePrice(string symbol) => symbol switch
    {
        _ when symbol.StartsWith("BTC", StringComparison.Ordinal) => 60000m,
        _ when symbol.StartsWith("ETH", StringComparison.Ordinal) => 3000m,
        _ when symbol.StartsWith("BNB", StringComparison.Ordinal) => 600m,
        _ when symbol.StartsWith("SOL", StringComparison.Ordinal) => 150m,
        _ when symbol.StartsWith("DOGE", StringComparison.Ordinal) => 0.15m,
        _ => 10m,
    };

    /// <summary>FNV-1a: string.GetHashCode is randomised per process, which would break reproducible seeds.</summary>
    private static int StableHash(string text)
    {
        var hash = 2166136261u;
        foreach (var c in text)
        {
            hash = (hash ^ c) * 16777619u;
        }

        return unchecked((int)hash);
    }
}
