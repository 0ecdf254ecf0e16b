using System.Globalization;
using System.Runtime.CompilerServices;
using System.Text;
using Grinder.Grains;
using Grinder.Grains.Binance;
using Grinder.Grains.Ledger;
using Grinder.Grains.Logging;
using Microsoft.Data.Sqlite;

namespace Grinder.Silo.Ledger;

/// <summary>
/// The fill ledger of local mode: an embedded SQLite database (<c>ledger.db</c> in the data directory) with the
/// semantics of <see cref="PostgresFillLedger"/>. Amounts are stored as invariant decimal strings in STRICT TEXT
/// columns and every sum is taken in C# decimals: SQLite's own SUM would convert text to binary floating point
/// (SQLite docs, "Datatypes In SQLite", type affinity and "Built-in Aggregate Functions"). All writes go through one
/// connection, one at a time, inside one transaction each; reads use pooled connections of their own, which WAL mode
/// lets run beside the writer (SQLite docs, "Write-Ahead Logging"). An append writes its rows through
/// <see cref="SqliteFillInserter"/>: multi-row statements that report which rows they inserted, so the totals rise by
/// exactly those.
/// </summary>
public sealed partial class SqliteFillLedger : IFillLedger, IDisposable
{
    /// <summary>File name of the ledger inside the data directory.</summary>
    public const string FileName = "ledger.db";

    /// <summary>Most rows one INSERT statement of an append writes: a larger batch takes several statements.</summary>
    public const int RowsPerInsert = SqliteFillInserter.MaxRowsPerStatement;

    /// <summary>The schema this build writes, kept in <c>PRAGMA user_version</c>.</summary>
    public const int SchemaVersion = 1;

    private const string SchemaSql = """
        CREATE TABLE grinder_fills (
            account          TEXT    NOT NULL,
            symbol           TEXT    NOT NULL,
            trade_id         INTEGER NOT NULL,
            side             TEXT    NOT NULL CHECK (side IN ('BUY', 'SELL')),
            order_id         INTEGER NOT NULL,
            price            TEXT    NOT NULL,
            qty              TEXT    NOT NULL,
            quote_qty        TEXT    NOT NULL,
            realized_pnl     TEXT    NOT NULL,
            commission       TEXT    NOT NULL,
            commission_asset TEXT    NOT NULL,
            time_ms          INTEGER NOT NULL,
            buyer            INTEGER NOT NULL,
            maker            INTEGER NOT NULL,
            position_side    TEXT    NOT NULL,
            source           TEXT    NOT NULL,
            first_seen_ms    INTEGER NOT NULL,
            first_seen_by    TEXT    NOT NULL CHECK (first_seen_by IN ('poll', 'rescan', 'stream')),
            pre_ledger       INTEGER NOT NULL,
            PRIMARY KEY (account, symbol, trade_id, side),
            CHECK (buyer = (side = 'BUY'))
        ) WITHOUT ROWID, STRICT;

        CREATE INDEX grinder_fills_page ON grinder_fills (account, time_ms, symbol, trade_id, side);

        CREATE TABLE grinder_fill_totals (
            account   TEXT    NOT NULL,
            source    TEXT    NOT NULL,
            side      TEXT    NOT NULL CHECK (side IN ('buy', 'sell')),
            liquidity TEXT    NOT NULL CHECK (liquidity IN ('maker', 'taker')),
            fills     INTEGER NOT NULL,
            notional  TEXT    NOT NULL,
            fees      TEXT    NOT NULL,
            rebates   TEXT    NOT NULL,
            recovered INTEGER NOT NULL,
            PRIMARY KEY (account, source, side, liquidity)
        ) WITHOUT ROWID, STRICT;

        CREATE TABLE grinder_fill_asset_totals (
            account TEXT NOT NULL,
            asset   TEXT NOT NULL,
            fees    TEXT NOT NULL,
            rebates TEXT NOT NULL,
            PRIMARY KEY (account, asset)
        ) WITHOUT ROWID, STRICT;

        CREATE TABLE grinder_fill_legacy_marks (
            account       TEXT    NOT NULL,
            symbol        TEXT    NOT NULL,
            high_water_id INTEGER NOT NULL,
            buy_counted   INTEGER NOT NULL,
            sell_counted  INTEGER NOT NULL,
            PRIMARY KEY (account, symbol)
        ) WITHOUT ROWID, STRICT;

        CREATE TABLE grinder_fill_legacy_imports (
            account        TEXT    NOT NULL PRIMARY KEY,
            imported_at_ms INTEGER NOT NULL
        ) WITHOUT ROWID, STRICT;
        """;

    private const string RowColumns = """
        account, source, symbol, trade_id, side, order_id, price, qty, quote_qty, realized_pnl, commission,
        commission_asset, time_ms, maker, position_side, first_seen_ms, first_seen_by, pre_ledger
        """;

    /// <summary>How a stored amount is parsed back (the invariant text <see cref="Text"/> writes).</summary>
    internal const NumberStyles AmountStyle = NumberStyles.AllowLeadingSign | NumberStyles.AllowDecimalPoint;

    private readonly string _readConnectionString;
    private readonly SqliteConnection _writer;
    private readonly SqliteFillInserter _inserter;
    private readonly SemaphoreSlim _writeLock = new(1, 1);
    private readonly ILogger<SqliteFillLedger> _logger;

    /// <summary>Opens (or creates) <c>ledger.db</c> in <paramref name="dataDirectory"/> and brings its schema up to date.</summary>
    /// <exception cref="InvalidOperationException">The file was written by a newer version, or cannot be put into WAL mode.</exception>
    public SqliteFillLedger(string dataDirectory, ILogger<SqliteFillLedger> logger)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(dataDirectory);
        _logger = logger ?? throw new ArgumentNullException(nameof(logger));
        Directory.CreateDirectory(dataDirectory);
        Path = System.IO.Path.GetFullPath(System.IO.Path.Combine(dataDirectory, FileName));
        _readConnectionString = new SqliteConnectionStringBuilder { DataSource = Path, Mode = SqliteOpenMode.ReadWrite, Pooling = true }.ConnectionString;
        _writer = new SqliteConnection(new SqliteConnectionStringBuilder { DataSource = Path, Mode = SqliteOpenMode.ReadWriteCreate, Pooling = false }.ConnectionString);
        _inserter = new SqliteFillInserter(_writer);
        try
        {
            _writer.Open();
            var version = Open(_writer);
            LogOpened(logger, Path, version);
        }
        catch
        {
            _writer.Dispose();
            throw;
        }
    }

    /// <summary>Full path of the database file.</summary>
    public string Path { get; }

    /// <inheritdoc />
    public async Task<LedgerAppendResult> AppendAsync(LedgerBatch batch, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(batch);
        var plan = LedgerBatchPlan.Create(batch.Trades);
        if (plan.Trades.Count == 0)
        {
            return new LedgerAppendResult([], [], [], await GetTotalsAsync(batch.Account, cancellationToken));
        }

        return await WriteAsync(() => Append(batch, plan), cancellationToken);
    }

    /// <inheritdoc />
    public Task<AccountTotals> GetTotalsAsync(string account, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(account);
        return Task.Run(() =>
        {
            using var connection = OpenReader();
            return ReadTotals(connection, null, account).Build();
        }, cancellationToken);
    }

    /// <inheritdoc />
    public Task<AccountTotals> ImportLegacyAsync(LegacyImport import, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(import);
        return WriteAsync(() => Import(import), cancellationToken);
    }

    /// <inheritdoc />
    public async IAsyncEnumerable<LedgerRow> QueryAsync(FillQuery query, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(query);
        await using var connection = OpenReader();
        await using var command = connection.CreateCommand();
        var sql = new StringBuilder("SELECT ").Append(RowColumns).Append(" FROM grinder_fills WHERE account = $account");
        command.Parameters.AddWithValue("$account", query.Account);
        if (query.Symbol is not null)
        {
            sql.Append(" AND symbol = $symbol");
            command.Parameters.AddWithValue("$symbol", query.Symbol);
        }

        AppendTimeFilter(sql, command, query.FromMs, query.ToMs);
        if (query.After is { } after)
        {
            // Row values compare column by column (SQLite docs, "Row Values"); text compares bytewise (BINARY
            // collation), the order PostgreSQL's "C" collation gives the same columns.
            sql.Append(" AND (time_ms, symbol, trade_id, side) > ($after_time, $after_symbol, $after_id, $after_side)");
            command.Parameters.AddWithValue("$after_time", after.TimeMs);
            command.Parameters.AddWithValue("$after_symbol", after.Symbol);
            command.Parameters.AddWithValue("$after_id", after.TradeId);
            command.Parameters.AddWithValue("$after_side", LedgerCodes.Side(after.Side));
        }

        sql.Append(" ORDER BY time_ms, symbol, trade_id, side");
        if (query.Limit is { } limit)
        {
            sql.Append(" LIMIT $limit");
            command.Parameters.AddWithValue("$limit", limit);
        }

        command.CommandText = sql.ToString();
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
        {
            yield return ReadRow(reader);
        }
    }

    /// <inheritdoc />
    public Task<IReadOnlyList<SymbolSummary>> SummarizeAsync(string account, long? fromMs, long? toMs, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(account);
        return Task.Run<IReadOnlyList<SymbolSummary>>(() =>
        {
            using var connection = OpenReader();
            using var command = connection.CreateCommand();
            var sql = new StringBuilder("SELECT symbol, side, price, qty, realized_pnl, commission, commission_asset FROM grinder_fills WHERE account = $account");
            command.Parameters.AddWithValue("$account", account);
            AppendTimeFilter(sql, command, fromMs, toMs);
            command.CommandText = sql.ToString();

            // One pass over the rows, summing in decimals as they stream by: memory grows with symbols, not rows.
            var sums = new Dictionary<string, SymbolSums>(StringComparer.Ordinal);
            using var reader = command.ExecuteReader();
            while (reader.Read())
            {
                var symbol = reader.GetString(0);
                if (!sums.TryGetValue(symbol, out var sum))
                {
                    sums[symbol] = sum = new SymbolSums();
                }

                var price = Amount(reader, 2);
                var qty = Amount(reader, 3);
                var commission = Amount(reader, 5);
                sum.Fills++;
                if (LedgerCodes.ParseSide(reader.GetString(1)) == FillSide.Buy)
                {
                    sum.BuyQty += qty;
                    sum.BuyNotional += qty * price;
                }
                else
                {
                    sum.SellQty += qty;
                    sum.SellNotional += qty * price;
                }

                sum.RealizedPnl += Amount(reader, 4);
                var asset = reader.GetString(6);
                var current = sum.ByAsset.GetValueOrDefault(asset, AssetTotals.Zero);
                sum.ByAsset[asset] = new AssetTotals(current.Fees + LedgerTotalsBuilder.FeeOf(commission), current.Rebates + LedgerTotalsBuilder.RebateOf(commission));
            }

            return sums
                .OrderBy(pair => pair.Key, StringComparer.Ordinal)
                .Select(pair => new SymbolSummary(pair.Key, pair.Value.Fills, pair.Value.BuyQty, pair.Value.SellQty,
                    pair.Value.BuyNotional, pair.Value.SellNotional, pair.Value.RealizedPnl, pair.Value.ByAsset))
                .ToList();
        }, cancellationToken);
    }

    /// <inheritdoc />
    public Task PingAsync(CancellationToken cancellationToken) => Task.Run(() =>
    {
        using var connection = OpenReader();
        using var command = connection.CreateCommand();
        command.CommandText = "SELECT 1 FROM grinder_fill_legacy_imports LIMIT 1";
        command.ExecuteScalar();
    }, cancellationToken);

    public void Dispose()
    {
        _writeLock.Wait();
        try
        {
            // Its prepared statements first: they belong to the writer connection.
            _inserter.Dispose();
            _writer.Dispose();
            // Pooled reader connections keep the file open; a ledger opened again on the same file starts clean.
            using var pooled = new SqliteConnection(_readConnectionString);
            SqliteConnection.ClearPool(pooled);
        }
        finally
        {
            _writeLock.Release();
        }
    }

    /// <summary>Puts the file into WAL mode and creates or checks the schema; returns the schema version.</summary>
    private static int Open(SqliteConnection connection)
    {
        // WAL persists in the file. synchronous=FULL makes every commit durable across a power loss too: with
        // NORMAL a committed WAL transaction may roll back after one (SQLite docs, "PRAGMA synchronous"), and a
        // ledger row must never be lost once the read position that passed it has been saved.
        var mode = Scalar(connection, null, "PRAGMA journal_mode = WAL") as string;
        if (!string.Equals(mode, "wal", StringComparison.OrdinalIgnoreCase))
        {
            throw new InvalidOperationException($"The fill ledger {connection.DataSource} cannot use WAL mode (journal mode is '{mode}').");
        }

        Execute(connection, null, "PRAGMA synchronous = FULL");
        using var transaction = connection.BeginTransaction();
        var version = Convert.ToInt32(Scalar(connection, transaction, "PRAGMA user_version"), CultureInfo.InvariantCulture);
        if (version > SchemaVersion)
        {
            throw new InvalidOperationException(
                $"The fill ledger {connection.DataSource} has schema version {version}; this build knows up to {SchemaVersion} (it was written by a newer version).");
        }

        if (version == 0)
        {
            Execute(connection, transaction, SchemaSql);
            Execute(connection, transaction, $"PRAGMA user_version = {SchemaVersion}");
            version = SchemaVersion;
        }

        transaction.Commit();
        return version;
    }

    private async Task<T> WriteAsync<T>(Func<T> write, CancellationToken cancellationToken)
    {
        await _writeLock.WaitAsync(cancellationToken);
        try
        {
            // SQLite calls block; off the caller's thread so a grain's scheduler thread is never held by file I/O.
            return await Task.Run(write, CancellationToken.None);
        }
        finally
        {
            _writeLock.Release();
        }
    }

    private LedgerAppendResult Append(LedgerBatch batch, LedgerBatchPlan plan)
    {
        using var transaction = _writer.BeginTransaction();
        var marks = ReadMarks(transaction, batch.Account);
        var totals = ReadTotals(_writer, transaction, batch.Account);
        var trades = plan.Trades;
        var covered = new bool[trades.Count];
        for (var i = 0; i < covered.Length; i++)
        {
            var trade = trades[i];
            covered[i] = marks.TryGetValue(trade.Symbol, out var mark) && mark.Covers(trade.Id, trade.Side);
        }

        var isInserted = _inserter.Insert(batch, trades, covered);
        var touchedBuckets = new HashSet<TotalsBucket>();
        var touchedAssets = new HashSet<string>(StringComparer.Ordinal);
        var inserted = new List<FillKey>(trades.Count);
        var preLedger = new List<FillKey>();
        var mismatched = new List<FillKey>(plan.InBatchMismatches);
        for (var i = 0; i < trades.Count; i++)
        {
            var trade = trades[i];
            var key = LedgerBatchPlan.KeyOf(trade);
            if (!isInserted[i])
            {
                // The write lock and BEGIN IMMEDIATE keep every other writer out, so the stored row is the first-seen one.
                if (_inserter.StoredAmountsDiffer(batch.Account, trade) && !mismatched.Contains(key))
                {
                    mismatched.Add(key);
                }
            }
            else if (covered[i])
            {
                preLedger.Add(key);
            }
            else
            {
                inserted.Add(key);
                totals.AddFill(batch.Source, trade, batch.Feeder == FillFeeder.Rescan);
                touchedBuckets.Add(new TotalsBucket(batch.Source, trade.Side, trade.Liquidity));
                touchedAssets.Add(trade.CommissionAsset);
            }
        }

        WriteTotals(transaction, batch.Account, totals, touchedBuckets, touchedAssets);
        transaction.Commit();
        // Inserted and pre-ledger keys are in key order already (the plan's order); mismatches of the batch itself came first.
        mismatched.Sort(LedgerBatchPlan.CompareKeys);
        return new LedgerAppendResult(inserted, preLedger, mismatched, totals.Build());
    }

    private AccountTotals Import(LegacyImport import)
    {
        using var transaction = _writer.BeginTransaction();
        using (var claimed = Command(transaction, "SELECT 1 FROM grinder_fill_legacy_imports WHERE account = $account"))
        {
            claimed.Parameters.AddWithValue("$account", import.Account);
            if (claimed.ExecuteScalar() is not null)
            {
                return ReadTotals(_writer, transaction, import.Account).Build();
            }
        }

        using (var mark = Command(transaction, """
            INSERT INTO grinder_fill_legacy_marks (account, symbol, high_water_id, buy_counted, sell_counted)
            VALUES ($account, $symbol, $high_water_id, $buy_counted, $sell_counted)
            ON CONFLICT DO NOTHING
            """))
        {
            mark.Parameters.AddWithValue("$account", import.Account);
            var symbol = mark.Parameters.Add("$symbol", SqliteType.Text);
            var highWater = mark.Parameters.Add("$high_water_id", SqliteType.Integer);
            var buy = mark.Parameters.Add("$buy_counted", SqliteType.Integer);
            var sell = mark.Parameters.Add("$sell_counted", SqliteType.Integer);
            foreach (var legacy in import.Marks)
            {
                symbol.Value = legacy.Symbol;
                highWater.Value = legacy.HighWaterId;
                buy.Value = legacy.BuyCounted ? 1 : 0;
                sell.Value = legacy.SellCounted ? 1 : 0;
                mark.ExecuteNonQuery();
            }
        }

        var totals = ReadTotals(_writer, transaction, import.Account);
        foreach (var (bucket, fills) in import.Buckets)
        {
            totals.AddBucket(bucket, fills, 0);
        }

        foreach (var (asset, amounts) in import.ByAsset)
        {
            totals.AddAsset(asset, amounts);
        }

        WriteTotals(transaction, import.Account, totals, import.Buckets.Keys.ToHashSet(), import.ByAsset.Keys.ToHashSet(StringComparer.Ordinal));
        using (var claim = Command(transaction, "INSERT INTO grinder_fill_legacy_imports (account, imported_at_ms) VALUES ($account, $now)"))
        {
            claim.Parameters.AddWithValue("$account", import.Account);
            claim.Parameters.AddWithValue("$now", DateTimeOffset.UtcNow.ToUnixTimeMilliseconds());
            claim.ExecuteNonQuery();
        }

        transaction.Commit();
        var result = totals.Build();
        LogLegacyImported(_logger, import.Account, result.Count, import.Marks.Count);
        return result;
    }

    private Dictionary<string, LegacyMark> ReadMarks(SqliteTransaction transaction, string account)
    {
        using var command = Command(transaction, "SELECT symbol, high_water_id, buy_counted, sell_counted FROM grinder_fill_legacy_marks WHERE account = $account");
        command.Parameters.AddWithValue("$account", account);
        var marks = new Dictionary<string, LegacyMark>(StringComparer.Ordinal);
        using var reader = command.ExecuteReader();
        while (reader.Read())
        {
            marks[reader.GetString(0)] = new LegacyMark(reader.GetString(0), reader.GetInt64(1), reader.GetInt64(2) != 0, reader.GetInt64(3) != 0);
        }

        return marks;
    }

    private static LedgerTotalsBuilder ReadTotals(SqliteConnection connection, SqliteTransaction? transaction, string account)
    {
        var builder = new LedgerTotalsBuilder();
        using (var command = connection.CreateCommand())
        {
            command.Transaction = transaction;
            command.CommandText = "SELECT source, side, liquidity, fills, notional, fees, rebates, recovered FROM grinder_fill_totals WHERE account = $account";
            command.Parameters.AddWithValue("$account", account);
            using var reader = command.ExecuteReader();
            while (reader.Read())
            {
                var bucket = new TotalsBucket(reader.GetString(0), LedgerCodes.ParseBucketSide(reader.GetString(1)), LedgerCodes.ParseLiquidity(reader.GetString(2)));
                builder.AddBucket(bucket, new FillTotals(reader.GetInt64(3), Amount(reader, 4), Amount(reader, 5), Amount(reader, 6)), reader.GetInt64(7));
            }
        }

        using (var command = connection.CreateCommand())
        {
            command.Transaction = transaction;
            command.CommandText = "SELECT asset, fees, rebates FROM grinder_fill_asset_totals WHERE account = $account";
            command.Parameters.AddWithValue("$account", account);
            using var reader = command.ExecuteReader();
            while (reader.Read())
            {
                builder.AddAsset(reader.GetString(0), new AssetTotals(Amount(reader, 1), Amount(reader, 2)));
            }
        }

        return builder;
    }

    /// <summary>Writes the new absolute totals of the buckets and assets this transaction changed.</summary>
    private void WriteTotals(SqliteTransaction transaction, string account, LedgerTotalsBuilder totals, IReadOnlySet<TotalsBucket> buckets, IReadOnlySet<string> assets)
    {
        using (var command = Command(transaction, """
            INSERT INTO grinder_fill_totals (account, source, side, liquidity, fills, notional, fees, rebates, recovered)
            VALUES ($account, $source, $side, $liquidity, $fills, $notional, $fees, $rebates, $recovered)
            ON CONFLICT (account, source, side, liquidity) DO UPDATE
               SET fills = excluded.fills, notional = excluded.notional, fees = excluded.fees,
                   rebates = excluded.rebates, recovered = excluded.recovered
            """))
        {
            command.Parameters.AddWithValue("$account", account);
            var source = command.Parameters.Add("$source", SqliteType.Text);
            var side = command.Parameters.Add("$side", SqliteType.Text);
            var liquidity = command.Parameters.Add("$liquidity", SqliteType.Text);
            var fills = command.Parameters.Add("$fills", SqliteType.Integer);
            var notional = command.Parameters.Add("$notional", SqliteType.Text);
            var fees = command.Parameters.Add("$fees", SqliteType.Text);
            var rebates = command.Parameters.Add("$rebates", SqliteType.Text);
            var recovered = command.Parameters.Add("$recovered", SqliteType.Integer);
            foreach (var bucket in buckets)
            {
                var value = totals.Buckets[bucket];
                source.Value = bucket.Source;
                side.Value = LedgerCodes.BucketSide(bucket.Side);
                liquidity.Value = LedgerCodes.Liquidity(bucket.Liquidity);
                fills.Value = value.Count;
                notional.Value = Text(value.Notional);
                fees.Value = Text(value.Fees);
                rebates.Value = Text(value.Rebates);
                recovered.Value = totals.RecoveredByBucket.GetValueOrDefault(bucket);
                command.ExecuteNonQuery();
            }
        }

        using (var command = Command(transaction, """
            INSERT INTO grinder_fill_asset_totals (account, asset, fees, rebates) VALUES ($account, $asset, $fees, $rebates)
            ON CONFLICT (account, asset) DO UPDATE SET fees = excluded.fees, rebates = excluded.rebates
            """))
        {
            command.Parameters.AddWithValue("$account", account);
            var asset = command.Parameters.Add("$asset", SqliteType.Text);
            var fees = command.Parameters.Add("$fees", SqliteType.Text);
            var rebates = command.Parameters.Add("$rebates", SqliteType.Text);
            foreach (var name in assets)
            {
                var value = totals.Assets[name];
                asset.Value = name;
                fees.Value = Text(value.Fees);
                rebates.Value = Text(value.Rebates);
                command.ExecuteNonQuery();
            }
        }
    }

    private SqliteCommand Command(SqliteTransaction transaction, string sql)
    {
        var command = _writer.CreateCommand();
        command.Transaction = transaction;
        command.CommandText = sql;
        return command;
    }

    private SqliteConnection OpenReader()
    {
        var connection = new SqliteConnection(_readConnectionString);
        connection.Open();
        return connection;
    }

    private static void AppendTimeFilter(StringBuilder sql, SqliteCommand command, long? fromMs, long? toMs)
    {
        if (fromMs is { } from)
        {
            sql.Append(" AND time_ms >= $from_ms");
            command.Parameters.AddWithValue("$from_ms", from);
        }

        if (toMs is { } to)
        {
            sql.Append(" AND time_ms < $to_ms");
            command.Parameters.AddWithValue("$to_ms", to);
        }
    }

    private static LedgerRow ReadRow(SqliteDataReader reader)
    {
        var trade = new ParsedTrade(
            Symbol: reader.GetString(2),
            Id: reader.GetInt64(3),
            OrderId: reader.GetInt64(5),
            Side: LedgerCodes.ParseSide(reader.GetString(4)),
            Liquidity: reader.GetInt64(13) != 0 ? FillLiquidity.Maker : FillLiquidity.Taker,
            Price: Amount(reader, 6),
            Qty: Amount(reader, 7),
            QuoteQty: Amount(reader, 8),
            RealizedPnl: Amount(reader, 9),
            Commission: Amount(reader, 10),
            CommissionAsset: reader.GetString(11),
            TimeMs: reader.GetInt64(12),
            PositionSide: reader.GetString(14));
        return new LedgerRow(reader.GetString(0), reader.GetString(1), trade, reader.GetInt64(15),
            LedgerCodes.ParseFeeder(reader.GetString(16)), reader.GetInt64(17) != 0);
    }

    private static string Text(decimal amount) => amount.ToString(CultureInfo.InvariantCulture);

    private static decimal Amount(SqliteDataReader reader, int ordinal) =>
        decimal.Parse(reader.GetString(ordinal), AmountStyle, CultureInfo.InvariantCulture);

    private static object? Scalar(SqliteConnection connection, SqliteTransaction? transaction, string sql)
    {
        using var command = connection.CreateCommand();
        command.Transaction = transaction;
        command.CommandText = sql;
        return command.ExecuteScalar();
    }

    private static void Execute(SqliteConnection connection, SqliteTransaction? transaction, string sql)
    {
        using var command = connection.CreateCommand();
        command.Transaction = transaction;
        command.CommandText = sql;
        command.ExecuteNonQuery();
    }

    [LoggerMessage(EventId = LogEvents.Ledger.LedgerOpened, EventName = "LEDGER_OPENED", Level = LogLevel.Information,
        Message = "Fill ledger {Path} open (schema version {Version}, WAL)")]
    private static partial void LogOpened(ILogger logger, string path, int version);

    [LoggerMessage(EventId = LogEvents.Ledger.LedgerLegacyImported, EventName = "LEDGER_LEGACY_IMPORTED", Level = LogLevel.Information,
        Message = "Fill ledger took over the counters of account {Account} from its pre-ledger state: {Fills} fills, {Marks} symbol marks")]
    private static partial void LogLegacyImported(ILogger logger, string account, long fills, int marks);
}
