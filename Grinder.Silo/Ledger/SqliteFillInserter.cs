using System.Globalization;
using System.Numerics;
using System.Text;
using Grinder.Grains.Binance;
using Grinder.Grains.Ledger;
using Microsoft.Data.Sqlite;
using SQLitePCL;

namespace Grinder.Silo.Ledger;

/// <summary>
/// The row writes of <see cref="SqliteFillLedger"/>'s append, on its writer connection and inside its transaction:
/// multi-row <c>INSERT ... ON CONFLICT DO NOTHING RETURNING</c> statements of up to <see cref="MaxRowsPerStatement"/>
/// rows, prepared once and kept, and the look-up of a row that was there already. Values are bound by position through
/// SQLitePCL, the native API under Microsoft.Data.Sqlite: Microsoft.Data.Sqlite binds every parameter by name on every
/// execution, and SQLite finds a name by searching the statement's parameter list from the start
/// (<c>sqlite3_bind_parameter_index</c>), so a statement of many rows costs time in the square of its parameters (a
/// 200-row statement bound that way took over ten times the CPU per row of one row per statement; docs/benchmarks.md,
/// "Problems found").
/// </summary>
/// <remarks>Not thread-safe: the ledger uses it under its write lock only.</remarks>
internal sealed class SqliteFillInserter(SqliteConnection connection) : IDisposable
{
    /// <summary>Most rows one statement inserts: 5 + 512 × 14 = 7,173 parameters, under the bundled SQLite's limit of 32,766.</summary>
    public const int MaxRowsPerStatement = 512;

    // ?1 account, ?2 symbol, ?3 source, ?4 first_seen_ms, ?5 first_seen_by: the same for every row of a statement.
    private const int SharedParameters = 5;

    private const int RowParameters = 14;

    // The longest invariant text of a decimal: 29 digits, a sign and a point ("-0.0000000000000000000000000001").
    private const int MaxAmountBytes = 32;

    private const string InsertColumns = """
        INSERT INTO grinder_fills (account, symbol, source, first_seen_ms, first_seen_by, trade_id, side, order_id, price,
                                   qty, quote_qty, realized_pnl, commission, commission_asset, time_ms, buyer, maker,
                                   position_side, pre_ledger)
        VALUES
        """;

    private const string LookupSql = """
        SELECT price, qty, quote_qty, realized_pnl, commission, commission_asset
          FROM grinder_fills
         WHERE account = ?1 AND symbol = ?2 AND trade_id = ?3 AND side = ?4
        """;

    private readonly SqliteConnection _connection = connection ?? throw new ArgumentNullException(nameof(connection));

    // inserts[k] inserts 2^k rows. A batch is cut into statements of MaxRowsPerStatement rows and a remainder of powers
    // of two, so at most ten statements are ever prepared, each once for the connection's lifetime.
    private readonly sqlite3_stmt?[] _inserts = new sqlite3_stmt?[BitOperations.Log2(MaxRowsPerStatement) + 1];

    // UTF-8 of the texts bound in this append (account, symbols, codes, assets): a few distinct values bound many times.
    private readonly Dictionary<string, byte[]> _utf8 = new(StringComparer.Ordinal);

    private sqlite3_stmt? _lookup;

    private sqlite3 Database => _connection.Handle ?? throw new InvalidOperationException("The ledger's writer connection is not open.");

    /// <summary>
    /// Inserts the rows of <paramref name="trades"/> (distinct keys in key order, as <see cref="LedgerBatchPlan"/> gives
    /// them) that the ledger does not hold yet; the rest stay as they are.
    /// </summary>
    /// <param name="preLedger">Per row, whether it is stored as counted by the version before the ledger.</param>
    /// <returns>Per row, whether this call inserted it.</returns>
    public bool[] Insert(LedgerBatch batch, IReadOnlyList<ParsedTrade> trades, ReadOnlySpan<bool> preLedger)
    {
        _utf8.Clear();
        var inserted = new bool[trades.Count];
        var start = 0;
        while (start < trades.Count)
        {
            // One symbol per statement: it is bound once, and a returned row is known by its trade id and side.
            var end = start + 1;
            while (end < trades.Count && string.Equals(trades[end].Symbol, trades[start].Symbol, StringComparison.Ordinal))
            {
                end++;
            }

            while (start < end)
            {
                var remaining = end - start;
                var rows = remaining >= MaxRowsPerStatement ? MaxRowsPerStatement : 1 << BitOperations.Log2((uint)remaining);
                InsertRows(batch, trades, start, rows, preLedger, inserted);
                start += rows;
            }
        }

        return inserted;
    }

    /// <summary>Whether the ledger holds a row with <paramref name="trade"/>'s key whose amounts differ from it.</summary>
    public bool StoredAmountsDiffer(string account, ParsedTrade trade)
    {
        var statement = _lookup ??= Prepare(LookupSql);
        try
        {
            BindText(statement, 1, account);
            BindText(statement, 2, trade.Symbol);
            Bind(raw.sqlite3_bind_int64(statement, 3, trade.Id));
            BindText(statement, 4, LedgerCodes.Side(trade.Side));
            var rc = raw.sqlite3_step(statement);
            if (rc != raw.SQLITE_ROW)
            {
                SqliteException.ThrowExceptionForRC(rc, Database);
                return false;
            }

            var stored = trade with
            {
                Price = Amount(statement, 0),
                Qty = Amount(statement, 1),
                QuoteQty = Amount(statement, 2),
                RealizedPnl = Amount(statement, 3),
                Commission = Amount(statement, 4),
                CommissionAsset = Encoding.UTF8.GetString(raw.sqlite3_column_blob(statement, 5)),
            };
            return !LedgerBatchPlan.SameAmounts(stored, trade);
        }
        finally
        {
            raw.sqlite3_reset(statement);
        }
    }

    public void Dispose()
    {
        foreach (var statement in _inserts)
        {
            statement?.Dispose();
        }

        _lookup?.Dispose();
    }

    private void InsertRows(LedgerBatch batch, IReadOnlyList<ParsedTrade> trades, int first, int count, ReadOnlySpan<bool> preLedger, bool[] inserted)
    {
        var statement = InsertStatement(count);
        try
        {
            BindText(statement, 1, batch.Account);
            BindText(statement, 2, trades[first].Symbol);
            BindText(statement, 3, batch.Source);
            Bind(raw.sqlite3_bind_int64(statement, 4, batch.SeenAtMs));
            BindText(statement, 5, LedgerCodes.Feeder(batch.Feeder));
            for (var row = 0; row < count; row++)
            {
                var trade = trades[first + row];
                var p = SharedParameters + (row * RowParameters);
                Bind(raw.sqlite3_bind_int64(statement, p + 1, trade.Id));
                BindText(statement, p + 2, LedgerCodes.Side(trade.Side));
                Bind(raw.sqlite3_bind_int64(statement, p + 3, trade.OrderId));
                BindAmount(statement, p + 4, trade.Price);
                BindAmount(statement, p + 5, trade.Qty);
                BindAmount(statement, p + 6, trade.QuoteQty);
                BindAmount(statement, p + 7, trade.RealizedPnl);
                BindAmount(statement, p + 8, trade.Commission);
                BindText(statement, p + 9, trade.CommissionAsset);
                Bind(raw.sqlite3_bind_int64(statement, p + 10, trade.TimeMs));
                Bind(raw.sqlite3_bind_int64(statement, p + 11, trade.Side == FillSide.Buy ? 1 : 0));
                Bind(raw.sqlite3_bind_int64(statement, p + 12, trade.Liquidity == FillLiquidity.Maker ? 1 : 0));
                BindText(statement, p + 13, trade.PositionSide);
                Bind(raw.sqlite3_bind_int64(statement, p + 14, preLedger[first + row] ? 1 : 0));
            }

            // RETURNING gives exactly the rows this statement inserted; a row whose key was there already is skipped
            // by ON CONFLICT DO NOTHING and not returned (SQLite docs, "The RETURNING Clause" and "UPSERT").
            int rc;
            while ((rc = raw.sqlite3_step(statement)) == raw.SQLITE_ROW)
            {
                var side = raw.sqlite3_column_int64(statement, 1) != 0 ? FillSide.Buy : FillSide.Sell;
                inserted[IndexOf(trades, first, count, raw.sqlite3_column_int64(statement, 0), side)] = true;
            }

            SqliteException.ThrowExceptionForRC(rc, Database);
        }
        finally
        {
            // Resetting also ends the statement's part in the transaction, which the commit needs.
            raw.sqlite3_reset(statement);
        }
    }

    /// <summary>
    /// Position in <paramref name="trades"/> of a returned row, by binary search of the statement's rows (one symbol, in
    /// trade id and side order): the docs promise no order for RETURNING rows.
    /// </summary>
    private static int IndexOf(IReadOnlyList<ParsedTrade> trades, int first, int count, long tradeId, FillSide side)
    {
        var low = first;
        var high = first + count - 1;
        while (low <= high)
        {
            var middle = low + ((high - low) / 2);
            var candidate = trades[middle];
            var order = candidate.Id != tradeId ? candidate.Id.CompareTo(tradeId) : candidate.Side.CompareTo(side);
            if (order == 0)
            {
                return middle;
            }

            if (order < 0)
            {
                low = middle + 1;
            }
            else
            {
                high = middle - 1;
            }
        }

        throw new InvalidOperationException($"The ledger's insert returned trade {tradeId} {side}, which the statement did not insert.");
    }

    private sqlite3_stmt InsertStatement(int rows)
    {
        var slot = BitOperations.Log2((uint)rows);
        if (_inserts[slot] is { } prepared)
        {
            return prepared;
        }

        var sql = new StringBuilder(InsertColumns, InsertColumns.Length + (rows * (16 + (RowParameters * 7))) + 64);
        for (var row = 0; row < rows; row++)
        {
            sql.Append(row == 0 ? "\n(?1,?2,?3,?4,?5" : ",\n(?1,?2,?3,?4,?5");
            var p = SharedParameters + (row * RowParameters);
            for (var column = 1; column <= RowParameters; column++)
            {
                sql.Append(",?").Append(p + column);
            }

            sql.Append(')');
        }

        sql.Append("\nON CONFLICT DO NOTHING\nRETURNING trade_id, buyer");
        return _inserts[slot] = Prepare(sql.ToString());
    }

    private sqlite3_stmt Prepare(string sql)
    {
        // PERSISTENT: the statement is kept and reused, which tells SQLite not to take its memory from the lookaside pool.
        SqliteException.ThrowExceptionForRC(raw.sqlite3_prepare_v3(Database, sql, raw.SQLITE_PREPARE_PERSISTENT, out var statement), Database);
        return statement;
    }

    private void BindText(sqlite3_stmt statement, int index, string value)
    {
        if (!_utf8.TryGetValue(value, out var bytes))
        {
            _utf8[value] = bytes = Encoding.UTF8.GetBytes(value);
        }

        Bind(raw.sqlite3_bind_text(statement, index, bytes));
    }

    /// <summary>Binds the same text as <see cref="SqliteFillLedger"/> stores for an amount (invariant culture), written as UTF-8 directly.</summary>
    private void BindAmount(sqlite3_stmt statement, int index, decimal amount)
    {
        Span<byte> text = stackalloc byte[MaxAmountBytes];
        if (!amount.TryFormat(text, out var written, default, CultureInfo.InvariantCulture))
        {
            throw new InvalidOperationException($"The amount {amount} does not fit its text buffer.");
        }

        Bind(raw.sqlite3_bind_text(statement, index, text[..written]));
    }

    private void Bind(int rc) => SqliteException.ThrowExceptionForRC(rc, Database);

    private static decimal Amount(sqlite3_stmt statement, int column) =>
        decimal.Parse(raw.sqlite3_column_blob(statement, column), SqliteFillLedger.AmountStyle, CultureInfo.InvariantCulture);
}
