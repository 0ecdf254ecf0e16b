using Grinder.Grains.Binance;
using Npgsql;
using NpgsqlTypes;

namespace Grinder.Benchmarks;

/// <summary>
/// Ledger rows for the ledger harnesses: 1,000-row pages of one symbol as the parser hands them over (consecutive ids,
/// prices, quantities and commissions with Binance's decimal places), and a binary COPY of such rows with every column
/// of <c>grinder_fills</c>, the values the ledger itself would store.
/// </summary>
internal static class LedgerRows
{
    /// <summary>The columns of grinder_fills in table order (005_fill_ledger.sql).</summary>
    public const string Columns =
        "account, symbol, trade_id, side, order_id, price, qty, quote_qty, realized_pnl, commission, commission_asset, "
        + "time_ms, buyer, maker, position_side, source, first_seen_ms, first_seen_by, pre_ledger";

    /// <summary>
    /// <paramref name="count"/> trades of <paramref name="symbol"/> with ids from <paramref name="firstId"/>, one every
    /// 50 ms from <paramref name="firstTimeMs"/>. Seeded by the first id, so the same call gives the same rows.
    /// </summary>
    public static List<ParsedTrade> Page(string symbol, long firstId, int count, long firstTimeMs)
    {
        var random = new Random(unchecked((int)firstId));
        var trades = new List<ParsedTrade>(count);
        for (var i = 0; i < count; i++)
        {
            var id = firstId + i;
            // Binance's scales: price 0.1, qty 0.001, quoteQty and PnL up to 8 places, commission 8 places.
            var price = Math.Round(95_000m + random.Next(0, 40_000) / 10m, 1);
            var qty = random.Next(1, 500) / 1000m;
            var quote = price * qty;
            var maker = random.Next(4) == 0;
            // Makers pay 0.02% (a few earn a rebate, a negative commission), takers 0.05%.
            var rate = maker ? (random.Next(10) == 0 ? -0.0001m : 0.0002m) : 0.0005m;
            var commission = Math.Round(quote * rate, 8);
            var pnl = random.Next(3) == 0 ? 0m : Math.Round((random.Next(-2_000_000, 2_000_000) / 1000m) + (random.Next(0, 100_000) / 100_000_000m), 8);
            trades.Add(new ParsedTrade(
                symbol,
                id,
                OrderId: 8_000_000_000 + (id / 3),
                Side: random.Next(2) == 0 ? FillSide.Buy : FillSide.Sell,
                Liquidity: maker ? FillLiquidity.Maker : FillLiquidity.Taker,
                Price: price,
                Qty: qty,
                QuoteQty: quote,
                RealizedPnl: pnl,
                Commission: commission,
                CommissionAsset: random.Next(20) == 0 ? "BNB" : "USDT",
                TimeMs: firstTimeMs + (i * 50L),
                PositionSide: "BOTH"));
        }

        return trades;
    }

    /// <summary>Binary COPY of <paramref name="trades"/> into <paramref name="table"/> (grinder_fills' columns), one statement, its own transaction.</summary>
    public static async Task<ulong> CopyAsync(NpgsqlConnection connection, string table, string account, string source, long seenMs, IReadOnlyList<ParsedTrade> trades)
    {
        await using var writer = await connection.BeginBinaryImportAsync($"COPY {table} ({Columns}) FROM STDIN (FORMAT BINARY)");
        await WriteRowsAsync(writer, account, source, seenMs, trades);
        return await writer.CompleteAsync();
    }

    /// <summary>Writes <paramref name="trades"/> as rows of a binary COPY with <see cref="Columns"/>.</summary>
    public static async Task WriteRowsAsync(NpgsqlBinaryImporter writer, string account, string source, long seenMs, IReadOnlyList<ParsedTrade> trades)
    {
        foreach (var trade in trades)
        {
            await writer.StartRowAsync();
            await writer.WriteAsync(account, NpgsqlDbType.Text);
            await writer.WriteAsync(trade.Symbol, NpgsqlDbType.Text);
            await writer.WriteAsync(trade.Id, NpgsqlDbType.Bigint);
            await writer.WriteAsync(trade.Side == FillSide.Buy ? "BUY" : "SELL", NpgsqlDbType.Text);
            await writer.WriteAsync(trade.OrderId, NpgsqlDbType.Bigint);
            await writer.WriteAsync(trade.Price, NpgsqlDbType.Numeric);
            await writer.WriteAsync(trade.Qty, NpgsqlDbType.Numeric);
            await writer.WriteAsync(trade.QuoteQty, NpgsqlDbType.Numeric);
            await writer.WriteAsync(trade.RealizedPnl, NpgsqlDbType.Numeric);
            await writer.WriteAsync(trade.Commission, NpgsqlDbType.Numeric);
            await writer.WriteAsync(trade.CommissionAsset, NpgsqlDbType.Text);
            await writer.WriteAsync(trade.TimeMs, NpgsqlDbType.Bigint);
            await writer.WriteAsync(trade.Side == FillSide.Buy, NpgsqlDbType.Boolean);
            await writer.WriteAsync(trade.Liquidity == FillLiquidity.Maker, NpgsqlDbType.Boolean);
            await writer.WriteAsync(trade.PositionSide, NpgsqlDbType.Text);
            await writer.WriteAsync(source, NpgsqlDbType.Text);
            await writer.WriteAsync(seenMs, NpgsqlDbType.Bigint);
            await writer.WriteAsync("poll", NpgsqlDbType.Text);
            await writer.WriteAsync(false, NpgsqlDbType.Boolean);
        }
    }
}
