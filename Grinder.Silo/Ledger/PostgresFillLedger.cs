using System.Runtime.CompilerServices;
using System.Text;
using Grinder.Grains;
using Grinder.Grains.Binance;
using Grinder.Grains.Ledger;
using Grinder.Grains.Logging;
using Grinder.Silo.Storage;
using Npgsql;

namespace Grinder.Silo.Ledger;

/// <summary>
/// The fill ledger on PostgreSQL (tables of <c>infra/postgres/005_fill_ledger.sql</c>). A small append is one round
/// trip: a batch of three statements in one implicit transaction. The first inserts the rows (arrays through
/// <c>unnest</c>), raises the totals by exactly the rows it inserted and reports the keys; the other two read the
/// account's totals afterwards. Exactly once rests on the primary key and <c>ON CONFLICT DO NOTHING</c>: a row that
/// a concurrent append inserted first waits for that append's commit and is then not inserted, and so not counted.
/// A large append (a backfill's pages) first tries a binary COPY of its rows in one transaction with the totals it
/// adds (<see cref="TryCopyAppendAsync"/>): the same rows and totals at about half the server's CPU, and the same
/// key decides, since a COPY that meets an existing row fails as a whole and the statement above takes over.
/// </summary>
public sealed partial class PostgresFillLedger : IFillLedger, IAsyncDisposable
{
    // Concurrent appends lock rows in one global order (fills by key, then totals, then asset totals: see
    // LedgerBatchPlan and the ORDER BY clauses), so a deadlock should not happen; if PostgreSQL still reports one,
    // the whole batch was rolled back and is simply sent again.
    private const int MaxAttempts = 3;

    // Below this many rows the single statement is cheaper than COPY's five round trips (begin, marks, copy, totals,
    // commit): polls of a quiet account send a row or two.
    private const int CopyThreshold = 200;

    private const string CopySql = "COPY grinder_fills (account, symbol, trade_id, side, order_id, price, qty, quote_qty, realized_pnl, "
        + "commission, commission_asset, time_ms, buyer, maker, position_side, source, first_seen_ms, first_seen_by, pre_ledger) FROM STDIN (FORMAT BINARY)";

    private const string MarksSql = """
        SELECT symbol, high_water_id, buy_counted, sell_counted FROM grinder_fill_legacy_marks WHERE account = @account
        """;

    // The totals of a COPY append, summed in C# decimals (exact, like numeric) from the rows it inserted; the same
    // lock order as the statement's (ORDER BY side, liquidity and asset).
    private const string AddTotalsSql = """
        INSERT INTO grinder_fill_totals AS t (account, source, side, liquidity, fills, notional, fees, rebates, recovered)
        SELECT @account, @source, b.side, b.liquidity, b.fills, b.notional, b.fees, b.rebates, b.recovered
          FROM unnest(@sides, @liquidities, @fills, @notionals, @fees, @rebates, @recovered)
               AS b(side, liquidity, fills, notional, fees, rebates, recovered)
         ORDER BY b.side, b.liquidity
        ON CONFLICT ON CONSTRAINT grinder_fill_totals_key DO UPDATE
           SET fills = t.fills + excluded.fills,
               notional = t.notional + excluded.notional,
               fees = t.fees + excluded.fees,
               rebates = t.rebates + excluded.rebates,
               recovered = t.recovered + excluded.recovered
        """;

    private const string AddAssetTotalsSql = """
        INSERT INTO grinder_fill_asset_totals AS a (account, asset, fees, rebates)
        SELECT @account, x.asset, x.fees, x.rebates
          FROM unnest(@assets, @fees, @rebates) AS x(asset, fees, rebates)
         ORDER BY x.asset
        ON CONFLICT ON CONSTRAINT grinder_fill_asset_totals_key DO UPDATE
           SET fees = a.fees + excluded.fees, rebates = a.rebates + excluded.rebates
        """;

    // Parameters: account, source, feeder, seen_ms, then one array per column of the batch's distinct rows in key
    // order. Every part of a statement sees the snapshot taken at its start (PostgreSQL docs, "Data-Modifying
    // Statements in WITH"): the final lookup therefore compares with rows that existed before this statement, and
    // the totals rise by the RETURNING rows of "inserted", which are exactly the rows this statement added.
    private const string AppendSql = """
        WITH input AS (
            SELECT *
              FROM unnest(@symbols, @trade_ids, @order_ids, @sides, @makers, @prices, @qtys, @quote_qtys,
                          @realized_pnls, @commissions, @commission_assets, @times, @position_sides)
                   WITH ORDINALITY
                   AS i(symbol, trade_id, order_id, side, maker, price, qty, quote_qty,
                        realized_pnl, commission, commission_asset, time_ms, position_side, ord)
        ),
        inserted AS (
            INSERT INTO grinder_fills (account, symbol, trade_id, side, order_id, price, qty, quote_qty, realized_pnl,
                                       commission, commission_asset, time_ms, buyer, maker, position_side,
                                       source, first_seen_ms, first_seen_by, pre_ledger)
            SELECT @account, i.symbol, i.trade_id, i.side, i.order_id, i.price, i.qty, i.quote_qty, i.realized_pnl,
                   i.commission, i.commission_asset, i.time_ms, i.side = 'BUY', i.maker, i.position_side,
                   @source, @seen_ms, @feeder,
                   -- Counted by the version before the ledger: below its high-water mark, or at it on a counted side.
                   -- Most accounts have no marks: the EXISTS runs once per statement and spares the per-row lookup.
                   CASE WHEN (SELECT EXISTS (SELECT 1 FROM grinder_fill_legacy_marks WHERE account = @account))
                        THEN COALESCE((SELECT i.trade_id < m.high_water_id
                                              OR (i.trade_id = m.high_water_id
                                                  AND CASE i.side WHEN 'BUY' THEN m.buy_counted ELSE m.sell_counted END)
                                         FROM grinder_fill_legacy_marks m
                                        WHERE m.account = @account AND m.symbol = i.symbol), false)
                        ELSE false
                   END
              FROM input i
             ORDER BY i.ord
            ON CONFLICT ON CONSTRAINT grinder_fills_key DO NOTHING
            RETURNING symbol, trade_id, side, maker, price, qty, commission, commission_asset, pre_ledger
        ),
        bucket_delta AS (
            SELECT CASE side WHEN 'BUY' THEN 'buy' ELSE 'sell' END AS side,
                   CASE WHEN maker THEN 'maker' ELSE 'taker' END AS liquidity,
                   count(*) AS fills,
                   sum(qty * price) AS notional,
                   sum(GREATEST(commission, 0)) AS fees,
                   sum(GREATEST(-commission, 0)) AS rebates
              FROM inserted
             WHERE NOT pre_ledger
             GROUP BY 1, 2
        ),
        totals AS (
            INSERT INTO grinder_fill_totals AS t (account, source, side, liquidity, fills, notional, fees, rebates, recovered)
            SELECT @account, @source, side, liquidity, fills, notional, fees, rebates,
                   CASE WHEN @feeder = 'rescan' THEN fills ELSE 0 END
              FROM bucket_delta
             ORDER BY side, liquidity
            ON CONFLICT ON CONSTRAINT grinder_fill_totals_key DO UPDATE
               SET fills = t.fills + excluded.fills,
                   notional = t.notional + excluded.notional,
                   fees = t.fees + excluded.fees,
                   rebates = t.rebates + excluded.rebates,
                   recovered = t.recovered + excluded.recovered
        ),
        asset_delta AS (
            SELECT commission_asset AS asset, sum(GREATEST(commission, 0)) AS fees, sum(GREATEST(-commission, 0)) AS rebates
              FROM inserted
             WHERE NOT pre_ledger
             GROUP BY commission_asset
        ),
        assets AS (
            INSERT INTO grinder_fill_asset_totals AS a (account, asset, fees, rebates)
            SELECT @account, asset, fees, rebates FROM asset_delta ORDER BY asset
            ON CONFLICT ON CONSTRAINT grinder_fill_asset_totals_key DO UPDATE
               SET fees = a.fees + excluded.fees, rebates = a.rebates + excluded.rebates
        )
        -- Only the exceptions come back, by position in the arrays: a row not inserted (recorded before: 1 with the
        -- same amounts, 2 with other amounts) or inserted as pre-ledger (3). Every other row was inserted and counted.
        -- A row not inserted is looked up by primary key; the lookup sees the snapshot taken when this statement
        -- started, so it compares with the first-seen values (a row a concurrent append is inserting right now is
        -- not visible to it and reports as 1).
        SELECT i.ord,
               CASE WHEN x.symbol IS NOT NULL THEN 3 WHEN p.differs THEN 2 ELSE 1 END
          FROM input i
          LEFT JOIN inserted x ON x.symbol = i.symbol AND x.trade_id = i.trade_id AND x.side = i.side
          LEFT JOIN LATERAL (
                SELECT (f.price, f.qty, f.quote_qty, f.realized_pnl, f.commission, f.commission_asset)
                       IS DISTINCT FROM (i.price, i.qty, i.quote_qty, i.realized_pnl, i.commission, i.commission_asset) AS differs
                  FROM grinder_fills f
                 WHERE x.symbol IS NULL
                   AND f.account = @account AND f.symbol = i.symbol AND f.trade_id = i.trade_id AND f.side = i.side
                 LIMIT 1) p ON true
         WHERE x.symbol IS NULL OR x.pre_ledger
        """;

    private const string TotalsSql = """
        SELECT source, side, liquidity, fills, notional, fees, rebates, recovered
          FROM grinder_fill_totals WHERE account = @account
        """;

    private const string AssetTotalsSql = """
        SELECT asset, fees, rebates FROM grinder_fill_asset_totals WHERE account = @account
        """;

    // Claims the account in grinder_fill_legacy_imports first: every other part joins "claimed", so a second import
    // (or one racing this one, which waits on the claimed key) writes nothing.
    private const string ImportSql = """
        WITH claimed AS (
            INSERT INTO grinder_fill_legacy_imports (account) VALUES (@account)
            ON CONFLICT ON CONSTRAINT grinder_fill_legacy_imports_key DO NOTHING
            RETURNING account
        ),
        marks AS (
            INSERT INTO grinder_fill_legacy_marks (account, symbol, high_water_id, buy_counted, sell_counted)
            SELECT c.account, m.symbol, m.high_water_id, m.buy_counted, m.sell_counted
              FROM claimed c
             CROSS JOIN unnest(@mark_symbols, @mark_ids, @mark_buys, @mark_sells) AS m(symbol, high_water_id, buy_counted, sell_counted)
            ON CONFLICT ON CONSTRAINT grinder_fill_legacy_marks_key DO NOTHING
        ),
        totals AS (
            INSERT INTO grinder_fill_totals AS t (account, source, side, liquidity, fills, notional, fees, rebates, recovered)
            SELECT c.account, b.source, b.side, b.liquidity, b.fills, b.notional, b.fees, b.rebates, 0
              FROM claimed c
             CROSS JOIN unnest(@bucket_sources, @bucket_sides, @bucket_liquidities, @bucket_fills, @bucket_notionals,
                               @bucket_fees, @bucket_rebates) AS b(source, side, liquidity, fills, notional, fees, rebates)
             ORDER BY b.source, b.side, b.liquidity
            ON CONFLICT ON CONSTRAINT grinder_fill_totals_key DO UPDATE
               SET fills = t.fills + excluded.fills,
                   notional = t.notional + excluded.notional,
                   fees = t.fees + excluded.fees,
                   rebates = t.rebates + excluded.rebates
        ),
        assets AS (
            INSERT INTO grinder_fill_asset_totals AS a (account, asset, fees, rebates)
            SELECT c.account, x.asset, x.fees, x.rebates
              FROM claimed c
             CROSS JOIN unnest(@asset_names, @asset_fees, @asset_rebates) AS x(asset, fees, rebates)
             ORDER BY x.asset
            ON CONFLICT ON CONSTRAINT grinder_fill_asset_totals_key DO UPDATE
               SET fees = a.fees + excluded.fees, rebates = a.rebates + excluded.rebates
        )
        SELECT count(*) FROM claimed
        """;

    private const string RowColumns = """
        account, source, symbol, trade_id, side, order_id, price, qty, quote_qty, realized_pnl, commission,
        commission_asset, time_ms, maker, position_side, first_seen_ms, first_seen_by, pre_ledger
        """;

    private readonly NpgsqlDataSource _dataSource;

    // Accounts whose last COPY met an existing row: their next large append goes straight to the statement (a COPY
    // that fails has cost a whole batch for nothing), until one inserts all of its rows again.
    private readonly System.Collections.Concurrent.ConcurrentDictionary<string, bool> _copyRefused = new(StringComparer.Ordinal);
    private readonly PostgresSchemaGate _schema;
    private readonly ILogger<PostgresFillLedger> _logger;

    /// <param name="connectionString">The Grinder database (the silo's, with its defaults applied).</param>
    /// <param name="schema">Opens when the ledger tables exist; every operation waits on it.</param>
    public PostgresFillLedger(string connectionString, PostgresSchemaGate schema, ILogger<PostgresFillLedger> logger)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(connectionString);
        _schema = schema ?? throw new ArgumentNullException(nameof(schema));
        _logger = logger ?? throw new ArgumentNullException(nameof(logger));
        _dataSource = NpgsqlDataSource.Create(connectionString);
    }

    /// <inheritdoc />
    public async Task<LedgerAppendResult> AppendAsync(LedgerBatch batch, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(batch);
        var plan = LedgerBatchPlan.Create(batch.Trades);
        if (plan.Trades.Count == 0)
        {
            return new LedgerAppendResult([], [], [], await GetTotalsAsync(batch.Account, cancellationToken));
        }

        await _schema.WaitAsync(cancellationToken);
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                if (plan.Trades.Count >= CopyThreshold && !_copyRefused.ContainsKey(batch.Account)
                    && await TryCopyAppendAsync(batch, plan, cancellationToken) is { } copied)
                {
                    return copied;
                }

                var appended = await AppendOnceAsync(batch, plan, cancellationToken);
                if (appended.Inserted.Count + appended.PreLedger.Count == plan.Trades.Count)
                {
                    _copyRefused.TryRemove(batch.Account, out _);
                }

                return appended;
            }
            catch (PostgresException e) when (e.SqlState == PostgresErrorCodes.DeadlockDetected && attempt < MaxAttempts)
            {
                LogDeadlockRetry(_logger, batch.Account, plan.Trades.Count, attempt);
            }
        }
    }

    /// <inheritdoc />
    public async Task<AccountTotals> GetTotalsAsync(string account, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(account);
        await _schema.WaitAsync(cancellationToken);
        await using var connection = await _dataSource.OpenConnectionAsync(cancellationToken);
        await using var batch = new NpgsqlBatch(connection);
        AddTotalsCommands(batch, account);
        await using var reader = await batch.ExecuteReaderAsync(cancellationToken);
        return await ReadTotalsAsync(reader, cancellationToken);
    }

    /// <inheritdoc />
    public async Task<AccountTotals> ImportLegacyAsync(LegacyImport import, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(import);
        await _schema.WaitAsync(cancellationToken);
        var buckets = import.Buckets.ToList();
        var assets = import.ByAsset.ToList();
        var command = new NpgsqlBatchCommand(ImportSql);
        command.Parameters.Add(new NpgsqlParameter<string>("account", import.Account));
        command.Parameters.Add(new NpgsqlParameter<string[]>("mark_symbols", import.Marks.Select(m => m.Symbol).ToArray()));
        command.Parameters.Add(new NpgsqlParameter<long[]>("mark_ids", import.Marks.Select(m => m.HighWaterId).ToArray()));
        command.Parameters.Add(new NpgsqlParameter<bool[]>("mark_buys", import.Marks.Select(m => m.BuyCounted).ToArray()));
        command.Parameters.Add(new NpgsqlParameter<bool[]>("mark_sells", import.Marks.Select(m => m.SellCounted).ToArray()));
        command.Parameters.Add(new NpgsqlParameter<string[]>("bucket_sources", buckets.Select(b => b.Key.Source).ToArray()));
        command.Parameters.Add(new NpgsqlParameter<string[]>("bucket_sides", buckets.Select(b => LedgerCodes.BucketSide(b.Key.Side)).ToArray()));
        command.Parameters.Add(new NpgsqlParameter<string[]>("bucket_liquidities", buckets.Select(b => LedgerCodes.Liquidity(b.Key.Liquidity)).ToArray()));
        command.Parameters.Add(new NpgsqlParameter<long[]>("bucket_fills", buckets.Select(b => b.Value.Count).ToArray()));
        command.Parameters.Add(new NpgsqlParameter<decimal[]>("bucket_notionals", buckets.Select(b => b.Value.Notional).ToArray()));
        command.Parameters.Add(new NpgsqlParameter<decimal[]>("bucket_fees", buckets.Select(b => b.Value.Fees).ToArray()));
        command.Parameters.Add(new NpgsqlParameter<decimal[]>("bucket_rebates", buckets.Select(b => b.Value.Rebates).ToArray()));
        command.Parameters.Add(new NpgsqlParameter<string[]>("asset_names", assets.Select(a => a.Key).ToArray()));
        command.Parameters.Add(new NpgsqlParameter<decimal[]>("asset_fees", assets.Select(a => a.Value.Fees).ToArray()));
        command.Parameters.Add(new NpgsqlParameter<decimal[]>("asset_rebates", assets.Select(a => a.Value.Rebates).ToArray()));

        await using var connection = await _dataSource.OpenConnectionAsync(cancellationToken);
        await using var batch = new NpgsqlBatch(connection);
        batch.BatchCommands.Add(command);
        AddTotalsCommands(batch, import.Account);
        await using var reader = await batch.ExecuteReaderAsync(cancellationToken);
        await reader.ReadAsync(cancellationToken);
        var imported = reader.GetInt64(0) == 1;
        await reader.NextResultAsync(cancellationToken);
        var totals = await ReadTotalsAsync(reader, cancellationToken);
        if (imported)
        {
            LogLegacyImported(_logger, import.Account, totals.Count, import.Marks.Count);
        }

        return totals;
    }

    /// <inheritdoc />
    public async IAsyncEnumerable<LedgerRow> QueryAsync(FillQuery query, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(query);
        await _schema.WaitAsync(cancellationToken);
        await using var connection = await _dataSource.OpenConnectionAsync(cancellationToken);
        await using var command = BuildQuery(connection, query);
        // Rows are read from the network as the caller consumes them: a CSV export of millions of rows holds one
        // row at a time, never the whole result.
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
        {
            yield return ReadRow(reader);
        }
    }

    /// <inheritdoc />
    public async Task<IReadOnlyList<SymbolSummary>> SummarizeAsync(string account, long? fromMs, long? toMs, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(account);
        await _schema.WaitAsync(cancellationToken);
        var where = new StringBuilder("account = @account");
        AppendTimeFilter(where, fromMs, toMs);
        var perSymbol = new NpgsqlBatchCommand($"""
            SELECT symbol,
                   count(*),
                   COALESCE(sum(qty) FILTER (WHERE side = 'BUY'), 0),
                   COALESCE(sum(qty) FILTER (WHERE side = 'SELL'), 0),
                   COALESCE(sum(qty * price) FILTER (WHERE side = 'BUY'), 0),
                   COALESCE(sum(qty * price) FILTER (WHERE side = 'SELL'), 0),
                   sum(realized_pnl)
              FROM grinder_fills
             WHERE {where}
             GROUP BY symbol
             ORDER BY symbol
            """);
        var perAsset = new NpgsqlBatchCommand($"""
            SELECT symbol, commission_asset, sum(GREATEST(commission, 0)), sum(GREATEST(-commission, 0))
              FROM grinder_fills
             WHERE {where}
             GROUP BY symbol, commission_asset
             ORDER BY symbol, commission_asset
            """);
        foreach (var command in new[] { perSymbol, perAsset })
        {
            AddFilterParameters(command.Parameters, account, fromMs, toMs);
        }

        await using var connection = await _dataSource.OpenConnectionAsync(cancellationToken);
        await using var batch = new NpgsqlBatch(connection);
        batch.BatchCommands.Add(perSymbol);
        batch.BatchCommands.Add(perAsset);
        await using var reader = await batch.ExecuteReaderAsync(cancellationToken);
        var symbols = new List<(string Symbol, long Fills, decimal BuyQty, decimal SellQty, decimal BuyNotional, decimal SellNotional, decimal Pnl)>();
        while (await reader.ReadAsync(cancellationToken))
        {
            symbols.Add((reader.GetString(0), reader.GetInt64(1), reader.GetDecimal(2), reader.GetDecimal(3),
                reader.GetDecimal(4), reader.GetDecimal(5), reader.GetDecimal(6)));
        }

        await reader.NextResultAsync(cancellationToken);
        var assets = new Dictionary<string, Dictionary<string, AssetTotals>>(StringComparer.Ordinal);
        while (await reader.ReadAsync(cancellationToken))
        {
            var symbol = reader.GetString(0);
            if (!assets.TryGetValue(symbol, out var byAsset))
            {
                assets[symbol] = byAsset = new Dictionary<string, AssetTotals>(StringComparer.Ordinal);
            }

            byAsset[reader.GetString(1)] = new AssetTotals(reader.GetDecimal(2), reader.GetDecimal(3));
        }

        return symbols
            .Select(s => new SymbolSummary(s.Symbol, s.Fills, s.BuyQty, s.SellQty, s.BuyNotional, s.SellNotional, s.Pnl,
                assets.TryGetValue(s.Symbol, out var byAsset) ? byAsset : new Dictionary<string, AssetTotals>(StringComparer.Ordinal)))
            .ToList();
    }

    /// <inheritdoc />
    public async Task PingAsync(CancellationToken cancellationToken)
    {
        await _schema.WaitAsync(cancellationToken);
        await using var connection = await _dataSource.OpenConnectionAsync(cancellationToken);
        await using var command = new NpgsqlCommand("SELECT 1 FROM grinder_fill_legacy_imports LIMIT 1", connection);
        await command.ExecuteScalarAsync(cancellationToken);
    }

    /// <inheritdoc />
    public ValueTask DisposeAsync() => _dataSource.DisposeAsync();

    /// <summary>
    /// A batch of new rows by binary COPY, in one transaction with the totals they add: null when a row of the batch
    /// exists already (COPY is all or nothing, so the unique key fails it and the transaction rolls back; the statement
    /// then decides row by row). Pre-ledger rows are marked from the account's legacy marks read in the same
    /// transaction, as the statement joins them; every other row is counted.
    /// </summary>
    private async Task<LedgerAppendResult?> TryCopyAppendAsync(LedgerBatch batch, LedgerBatchPlan plan, CancellationToken cancellationToken)
    {
        await using var connection = await _dataSource.OpenConnectionAsync(cancellationToken);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
        var marks = new Dictionary<string, LegacyMark>(StringComparer.Ordinal);
        await using (var read = new NpgsqlCommand(MarksSql, connection, transaction))
        {
            read.Parameters.Add(new NpgsqlParameter<string>("account", batch.Account));
            await using var reader = await read.ExecuteReaderAsync(cancellationToken);
            while (await reader.ReadAsync(cancellationToken))
            {
                marks[reader.GetString(0)] = new LegacyMark(reader.GetString(0), reader.GetInt64(1), reader.GetBoolean(2), reader.GetBoolean(3));
            }
        }

        var inserted = new List<FillKey>(plan.Trades.Count);
        var preLedger = new List<FillKey>();
        var added = new LedgerTotalsBuilder();
        var feeder = LedgerCodes.Feeder(batch.Feeder);
        try
        {
            await using var writer = await connection.BeginBinaryImportAsync(CopySql, cancellationToken);
            foreach (var trade in plan.Trades)
            {
                var covered = marks.TryGetValue(trade.Symbol, out var mark) && mark.Covers(trade.Id, trade.Side);
                await writer.StartRowAsync(cancellationToken);
                await writer.WriteAsync(batch.Account, NpgsqlTypes.NpgsqlDbType.Text, cancellationToken);
                await writer.WriteAsync(trade.Symbol, NpgsqlTypes.NpgsqlDbType.Text, cancellationToken);
                await writer.WriteAsync(trade.Id, NpgsqlTypes.NpgsqlDbType.Bigint, cancellationToken);
                await writer.WriteAsync(LedgerCodes.Side(trade.Side), NpgsqlTypes.NpgsqlDbType.Text, cancellationToken);
                await writer.WriteAsync(trade.OrderId, NpgsqlTypes.NpgsqlDbType.Bigint, cancellationToken);
                await writer.WriteAsync(trade.Price, NpgsqlTypes.NpgsqlDbType.Numeric, cancellationToken);
                await writer.WriteAsync(trade.Qty, NpgsqlTypes.NpgsqlDbType.Numeric, cancellationToken);
                await writer.WriteAsync(trade.QuoteQty, NpgsqlTypes.NpgsqlDbType.Numeric, cancellationToken);
                await writer.WriteAsync(trade.RealizedPnl, NpgsqlTypes.NpgsqlDbType.Numeric, cancellationToken);
                await writer.WriteAsync(trade.Commission, NpgsqlTypes.NpgsqlDbType.Numeric, cancellationToken);
                await writer.WriteAsync(trade.CommissionAsset, NpgsqlTypes.NpgsqlDbType.Text, cancellationToken);
                await writer.WriteAsync(trade.TimeMs, NpgsqlTypes.NpgsqlDbType.Bigint, cancellationToken);
                await writer.WriteAsync(trade.Side == FillSide.Buy, NpgsqlTypes.NpgsqlDbType.Boolean, cancellationToken);
                await writer.WriteAsync(trade.Liquidity == FillLiquidity.Maker, NpgsqlTypes.NpgsqlDbType.Boolean, cancellationToken);
                await writer.WriteAsync(trade.PositionSide, NpgsqlTypes.NpgsqlDbType.Text, cancellationToken);
                await writer.WriteAsync(batch.Source, NpgsqlTypes.NpgsqlDbType.Text, cancellationToken);
                await writer.WriteAsync(batch.SeenAtMs, NpgsqlTypes.NpgsqlDbType.Bigint, cancellationToken);
                await writer.WriteAsync(feeder, NpgsqlTypes.NpgsqlDbType.Text, cancellationToken);
                await writer.WriteAsync(covered, NpgsqlTypes.NpgsqlDbType.Boolean, cancellationToken);
                if (covered)
                {
                    preLedger.Add(LedgerBatchPlan.KeyOf(trade));
                }
                else
                {
                    inserted.Add(LedgerBatchPlan.KeyOf(trade));
                    added.AddFill(batch.Source, trade, batch.Feeder == FillFeeder.Rescan);
                }
            }

            await writer.CompleteAsync(cancellationToken);
        }
        catch (PostgresException e) when (e.SqlState == PostgresErrorCodes.UniqueViolation)
        {
            await transaction.RollbackAsync(cancellationToken);
            _copyRefused[batch.Account] = true;
            return null;
        }

        await using (var totals = new NpgsqlBatch(connection, transaction))
        {
            var buckets = added.Buckets.ToList();
            var bucketCommand = new NpgsqlBatchCommand(AddTotalsSql);
            bucketCommand.Parameters.Add(new NpgsqlParameter<string>("account", batch.Account));
            bucketCommand.Parameters.Add(new NpgsqlParameter<string>("source", batch.Source));
            bucketCommand.Parameters.Add(new NpgsqlParameter<string[]>("sides", buckets.Select(b => LedgerCodes.BucketSide(b.Key.Side)).ToArray()));
            bucketCommand.Parameters.Add(new NpgsqlParameter<string[]>("liquidities", buckets.Select(b => LedgerCodes.Liquidity(b.Key.Liquidity)).ToArray()));
            bucketCommand.Parameters.Add(new NpgsqlParameter<long[]>("fills", buckets.Select(b => b.Value.Count).ToArray()));
            bucketCommand.Parameters.Add(new NpgsqlParameter<decimal[]>("notionals", buckets.Select(b => b.Value.Notional).ToArray()));
            bucketCommand.Parameters.Add(new NpgsqlParameter<decimal[]>("fees", buckets.Select(b => b.Value.Fees).ToArray()));
            bucketCommand.Parameters.Add(new NpgsqlParameter<decimal[]>("rebates", buckets.Select(b => b.Value.Rebates).ToArray()));
            bucketCommand.Parameters.Add(new NpgsqlParameter<long[]>("recovered", buckets.Select(b => added.RecoveredByBucket[b.Key]).ToArray()));
            var assets = added.Assets.ToList();
            var assetCommand = new NpgsqlBatchCommand(AddAssetTotalsSql);
            assetCommand.Parameters.Add(new NpgsqlParameter<string>("account", batch.Account));
            assetCommand.Parameters.Add(new NpgsqlParameter<string[]>("assets", assets.Select(a => a.Key).ToArray()));
            assetCommand.Parameters.Add(new NpgsqlParameter<decimal[]>("fees", assets.Select(a => a.Value.Fees).ToArray()));
            assetCommand.Parameters.Add(new NpgsqlParameter<decimal[]>("rebates", assets.Select(a => a.Value.Rebates).ToArray()));
            totals.BatchCommands.Add(bucketCommand);
            totals.BatchCommands.Add(assetCommand);
            AddTotalsCommands(totals, batch.Account);
            AccountTotals after;
            await using (var reader = await totals.ExecuteReaderAsync(cancellationToken))
            {
                after = await ReadTotalsAsync(reader, cancellationToken);
            }

            await transaction.CommitAsync(cancellationToken);
            return new LedgerAppendResult(inserted, preLedger, [.. plan.InBatchMismatches], after);
        }
    }

    private async Task<LedgerAppendResult> AppendOnceAsync(LedgerBatch batch, LedgerBatchPlan plan, CancellationToken cancellationToken)
    {
        var trades = plan.Trades;
        var append = new NpgsqlBatchCommand(AppendSql);
        var parameters = append.Parameters;
        parameters.Add(new NpgsqlParameter<string>("account", batch.Account));
        parameters.Add(new NpgsqlParameter<string>("source", batch.Source));
        parameters.Add(new NpgsqlParameter<string>("feeder", LedgerCodes.Feeder(batch.Feeder)));
        parameters.Add(new NpgsqlParameter<long>("seen_ms", batch.SeenAtMs));
        parameters.Add(new NpgsqlParameter<string[]>("symbols", Column(trades, t => t.Symbol)));
        parameters.Add(new NpgsqlParameter<long[]>("trade_ids", Column(trades, t => t.Id)));
        parameters.Add(new NpgsqlParameter<long[]>("order_ids", Column(trades, t => t.OrderId)));
        parameters.Add(new NpgsqlParameter<string[]>("sides", Column(trades, t => LedgerCodes.Side(t.Side))));
        parameters.Add(new NpgsqlParameter<bool[]>("makers", Column(trades, t => t.Liquidity == FillLiquidity.Maker)));
        parameters.Add(new NpgsqlParameter<decimal[]>("prices", Column(trades, t => t.Price)));
        parameters.Add(new NpgsqlParameter<decimal[]>("qtys", Column(trades, t => t.Qty)));
        parameters.Add(new NpgsqlParameter<decimal[]>("quote_qtys", Column(trades, t => t.QuoteQty)));
        parameters.Add(new NpgsqlParameter<decimal[]>("realized_pnls", Column(trades, t => t.RealizedPnl)));
        parameters.Add(new NpgsqlParameter<decimal[]>("commissions", Column(trades, t => t.Commission)));
        parameters.Add(new NpgsqlParameter<string[]>("commission_assets", Column(trades, t => t.CommissionAsset)));
        parameters.Add(new NpgsqlParameter<long[]>("times", Column(trades, t => t.TimeMs)));
        parameters.Add(new NpgsqlParameter<string[]>("position_sides", Column(trades, t => t.PositionSide)));

        await using var connection = await _dataSource.OpenConnectionAsync(cancellationToken);
        // Without an explicit transaction the statements of a batch run in one implicit transaction (they are sent
        // before a single Sync message: PostgreSQL protocol, "Extended Query"), so the insert, the totals and the
        // read-back commit together, in one round trip.
        await using var npgsqlBatch = new NpgsqlBatch(connection);
        npgsqlBatch.BatchCommands.Add(append);
        AddTotalsCommands(npgsqlBatch, batch.Account);
        await using var reader = await npgsqlBatch.ExecuteReaderAsync(cancellationToken);

        // kinds[i]: 0 inserted and counted, 1 recorded before, 2 recorded before with other amounts, 3 pre-ledger.
        var kinds = new byte[trades.Count];
        while (await reader.ReadAsync(cancellationToken))
        {
            kinds[reader.GetInt64(0) - 1] = (byte)reader.GetInt32(1);
        }

        var inserted = new List<FillKey>(trades.Count);
        var preLedger = new List<FillKey>();
        var mismatched = new List<FillKey>(plan.InBatchMismatches);
        for (var i = 0; i < kinds.Length; i++)
        {
            var key = LedgerBatchPlan.KeyOf(trades[i]);
            switch (kinds[i])
            {
                case 0:
                    inserted.Add(key);
                    break;
                case 2 when !mismatched.Contains(key):
                    mismatched.Add(key);
                    break;
                case 3:
                    preLedger.Add(key);
                    break;
            }
        }

        await reader.NextResultAsync(cancellationToken);
        var totals = await ReadTotalsAsync(reader, cancellationToken);
        // Inserted and pre-ledger keys are in key order (the plan's); mismatches of the batch itself came first.
        mismatched.Sort(LedgerBatchPlan.CompareKeys);
        return new LedgerAppendResult(inserted, preLedger, mismatched, totals);
    }

    private static T[] Column<T>(IReadOnlyList<ParsedTrade> trades, Func<ParsedTrade, T> select)
    {
        var values = new T[trades.Count];
        for (var i = 0; i < values.Length; i++)
        {
            values[i] = select(trades[i]);
        }

        return values;
    }

    private static void AddTotalsCommands(NpgsqlBatch batch, string account)
    {
        var totals = new NpgsqlBatchCommand(TotalsSql);
        totals.Parameters.Add(new NpgsqlParameter<string>("account", account));
        var assets = new NpgsqlBatchCommand(AssetTotalsSql);
        assets.Parameters.Add(new NpgsqlParameter<string>("account", account));
        batch.BatchCommands.Add(totals);
        batch.BatchCommands.Add(assets);
    }

    /// <summary>Reads the two result sets of <see cref="AddTotalsCommands"/>, starting at the current one.</summary>
    private static async Task<AccountTotals> ReadTotalsAsync(NpgsqlDataReader reader, CancellationToken cancellationToken)
    {
        var builder = new LedgerTotalsBuilder();
        while (await reader.ReadAsync(cancellationToken))
        {
            var bucket = new TotalsBucket(reader.GetString(0), LedgerCodes.ParseBucketSide(reader.GetString(1)), LedgerCodes.ParseLiquidity(reader.GetString(2)));
            builder.AddBucket(bucket, new FillTotals(reader.GetInt64(3), reader.GetDecimal(4), reader.GetDecimal(5), reader.GetDecimal(6)), reader.GetInt64(7));
        }

        await reader.NextResultAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
        {
            builder.AddAsset(reader.GetString(0), new AssetTotals(reader.GetDecimal(1), reader.GetDecimal(2)));
        }

        return builder.Build();
    }

    private static NpgsqlCommand BuildQuery(NpgsqlConnection connection, FillQuery query)
    {
        // Only the filters a query has are in its text: a handful of distinct statements, each with a plan that
        // uses the (account, time_ms, symbol, trade_id, side) index, and each prepared automatically once it repeats.
        var sql = new StringBuilder("SELECT ").Append(RowColumns).Append(" FROM grinder_fills WHERE account = @account");
        var command = new NpgsqlCommand { Connection = connection };
        if (query.Symbol is not null)
        {
            sql.Append(" AND symbol = @symbol");
            command.Parameters.Add(new NpgsqlParameter<string>("symbol", query.Symbol));
        }

        AppendTimeFilter(sql, query.FromMs, query.ToMs);
        if (query.After is { } after)
        {
            sql.Append(" AND (time_ms, symbol, trade_id, side) > (@after_time, @after_symbol, @after_id, @after_side)");
            command.Parameters.Add(new NpgsqlParameter<long>("after_time", after.TimeMs));
            command.Parameters.Add(new NpgsqlParameter<string>("after_symbol", after.Symbol));
            command.Parameters.Add(new NpgsqlParameter<long>("after_id", after.TradeId));
            command.Parameters.Add(new NpgsqlParameter<string>("after_side", LedgerCodes.Side(after.Side)));
        }

        sql.Append(" ORDER BY time_ms, symbol, trade_id, side");
        if (query.Limit is { } limit)
        {
            sql.Append(" LIMIT @limit");
            command.Parameters.Add(new NpgsqlParameter<int>("limit", limit));
        }

        AddFilterParameters(command.Parameters, query.Account, query.FromMs, query.ToMs);
        command.CommandText = sql.ToString();
        return command;
    }

    private static void AppendTimeFilter(StringBuilder sql, long? fromMs, long? toMs)
    {
        if (fromMs is not null)
        {
            sql.Append(" AND time_ms >= @from_ms");
        }

        if (toMs is not null)
        {
            sql.Append(" AND time_ms < @to_ms");
        }
    }

    private static void AddFilterParameters(NpgsqlParameterCollection parameters, string account, long? fromMs, long? toMs)
    {
        parameters.Add(new NpgsqlParameter<string>("account", account));
        if (fromMs is { } from)
        {
            parameters.Add(new NpgsqlParameter<long>("from_ms", from));
        }

        if (toMs is { } to)
        {
            parameters.Add(new NpgsqlParameter<long>("to_ms", to));
        }
    }

    private static LedgerRow ReadRow(NpgsqlDataReader reader)
    {
        var trade = new ParsedTrade(
            Symbol: reader.GetString(2),
            Id: reader.GetInt64(3),
            OrderId: reader.GetInt64(5),
            Side: LedgerCodes.ParseSide(reader.GetString(4)),
            Liquidity: reader.GetBoolean(13) ? FillLiquidity.Maker : FillLiquidity.Taker,
            Price: reader.GetDecimal(6),
            Qty: reader.GetDecimal(7),
            QuoteQty: reader.GetDecimal(8),
            RealizedPnl: reader.GetDecimal(9),
            Commission: reader.GetDecimal(10),
            CommissionAsset: reader.GetString(11),
            TimeMs: reader.GetInt64(12),
            PositionSide: reader.GetString(14));
        return new LedgerRow(reader.GetString(0), reader.GetString(1), trade, reader.GetInt64(15),
            LedgerCodes.ParseFeeder(reader.GetString(16)), reader.GetBoolean(17));
    }

    [LoggerMessage(EventId = LogEvents.Ledger.LedgerDeadlockRetry, EventName = "LEDGER_DEADLOCK_RETRY", Level = LogLevel.Warning,
        Message = "Fill ledger append for account {Account} ({Rows} rows) was chosen as a deadlock victim and rolled back; sending it again (attempt {Attempt})")]
    private static partial void LogDeadlockRetry(ILogger logger, string account, int rows, int attempt);

    [LoggerMessage(EventId = LogEvents.Ledger.LedgerLegacyImported, EventName = "LEDGER_LEGACY_IMPORTED", Level = LogLevel.Information,
        Message = "Fill ledger took over the counters of account {Account} from its pre-ledger state: {Fills} fills, {Marks} symbol marks")]
    private static partial void LogLegacyImported(ILogger logger, string account, long fills, int marks);
}
