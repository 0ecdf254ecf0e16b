namespace Grinder.FakeBinance;

/// <summary>One stored row: a valid <see cref="FakeTrade"/> or a raw (invalid) JSON object served verbatim.</summary>
internal sealed record StoredRow(long Id, long TimeMs, long Sequence, FakeTrade? Trade, string? Raw);

/// <summary>Which rows a userTrades request asks for, after parameter validation.</summary>
/// <param name="MostRecent">No fromId and no time bounds: Binance returns the most recent trades, so take the last <paramref name="Limit"/>.</param>
internal sealed record TradeSelection(long? FromId, long FromTimeMs, long ToTimeMs, bool MostRecent, int Limit, long? OrderId);

/// <summary>What the next generated rows of a symbol continue from.</summary>
internal sealed record SymbolTail(long LastId, long LastOrderId, long LastTimeMs, decimal? LastPrice);

/// <summary>Accounts, their secrets and their rows per symbol. Rows are kept sorted by (id, arrival).</summary>
internal sealed class TradeBook
{
    private readonly Lock _gate = new();
    private readonly Dictionary<string, Account> _accounts = new(StringComparer.Ordinal);
    private readonly List<string> _symbols = [];
    private long _sequence;

    public TradeBook(IEnumerable<string> symbols)
    {
        foreach (var symbol in symbols)
        {
            AddSymbol(symbol);
        }
    }

    public IReadOnlyList<string> Symbols
    {
        get
        {
            lock (_gate)
            {
                return [.. _symbols];
            }
        }
    }

    public void AddSymbol(string symbol)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(symbol);
        lock (_gate)
        {
            if (!_symbols.Contains(symbol, StringComparer.Ordinal))
            {
                _symbols.Add(symbol);
            }
        }
    }

    public bool IsKnownSymbol(string symbol)
    {
        lock (_gate)
        {
            return _symbols.Contains(symbol, StringComparer.Ordinal);
        }
    }

    /// <summary>Adds an account, or replaces the secret of an existing one (its rows stay).</summary>
    public void AddAccount(string apiKey, string apiSecret)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(apiKey);
        ArgumentException.ThrowIfNullOrWhiteSpace(apiSecret);
        lock (_gate)
        {
            if (_accounts.TryGetValue(apiKey, out var account))
            {
                account.Secret = apiSecret;
            }
            else
            {
                _accounts.Add(apiKey, new Account(apiSecret));
            }
        }
    }

    public string? SecretOf(string apiKey)
    {
        lock (_gate)
        {
            return _accounts.TryGetValue(apiKey, out var account) ? account.Secret : null;
        }
    }

    public bool HasAccount(string apiKey)
    {
        lock (_gate)
        {
            return _accounts.ContainsKey(apiKey);
        }
    }

    /// <summary>Adds valid rows in one step. Throws when a (symbol, id, side) already exists: that is the dedup key a client relies on.</summary>
    public void AddTrades(string apiKey, IReadOnlyList<FakeTrade> trades)
    {
        lock (_gate)
        {
            var account = AccountOf(apiKey);
            var batch = new HashSet<(string, long, string)>();
            foreach (var trade in trades)
            {
                var key = (trade.Symbol, trade.Id, trade.Side);
                if (account.Keys.Contains(key) || !batch.Add(key))
                {
                    throw new InvalidOperationException($"Trade {trade.Symbol} id {trade.Id} side {trade.Side} already exists for this account.");
                }
            }

            foreach (var trade in trades)
            {
                EnsureSymbol(trade.Symbol);
                account.Keys.Add((trade.Symbol, trade.Id, trade.Side));
                Insert(account.RowsOf(trade.Symbol), new StoredRow(trade.Id, trade.TimeMs, ++_sequence, trade, null));
            }
        }
    }

    public void AddRaw(string apiKey, string symbol, long id, long timeMs, string raw)
    {
        lock (_gate)
        {
            var account = AccountOf(apiKey);
            EnsureSymbol(symbol);
            Insert(account.RowsOf(symbol), new StoredRow(id, timeMs, ++_sequence, null, raw));
        }
    }

    /// <summary>Runs <paramref name="create"/> with the symbol's tail and stores what it returns, atomically.</summary>
    public IReadOnlyList<FakeTrade> Append(string apiKey, string symbol, Func<SymbolTail, IReadOnlyList<FakeTrade>> create)
    {
        lock (_gate)
        {
            var account = AccountOf(apiKey);
            var rows = account.RowsOf(symbol);
            var lastValid = rows.LastOrDefault(r => r.Trade is not null)?.Trade;
            var tail = new SymbolTail(
                rows.Count == 0 ? 0 : rows.Max(r => r.Id),
                rows.Where(r => r.Trade is not null).Select(r => r.Trade!.OrderId).DefaultIfEmpty(0).Max(),
                rows.Count == 0 ? 0 : rows.Max(r => r.TimeMs),
                lastValid?.Price);
            var created = create(tail);
            AddTrades(apiKey, created);
            return created;
        }
    }

    /// <summary>Rows a userTrades request returns, ascending by id. Rows older than <paramref name="historyFloorMs"/> are out of reach.</summary>
    public List<StoredRow> Select(string apiKey, string symbol, TradeSelection selection, long historyFloorMs)
    {
        lock (_gate)
        {
            var rows = AccountOf(apiKey).RowsOf(symbol);
            IEnumerable<StoredRow> matching = rows.Where(r =>
                r.TimeMs >= historyFloorMs
                && (selection.OrderId is null || r.Trade?.OrderId == selection.OrderId));
            if (selection.FromId is { } fromId)
            {
                // fromId is inclusive ("Trade id to fetch from": Binance docs).
                return [.. matching.SkipWhile(r => r.Id < fromId).Take(selection.Limit)];
            }

            matching = matching.Where(r => r.TimeMs >= selection.FromTimeMs && r.TimeMs <= selection.ToTimeMs);
            return selection.MostRecent ? [.. matching.TakeLast(selection.Limit)] : [.. matching.Take(selection.Limit)];
        }
    }

    public IReadOnlyList<FakeTrade> ValidTrades(string apiKey, string symbol)
    {
        lock (_gate)
        {
            return [.. AccountOf(apiKey).RowsOf(symbol).Where(r => r.Trade is not null).Select(r => r.Trade!)];
        }
    }

    public int ValidCount(string apiKey, long historyFloorMs)
    {
        lock (_gate)
        {
            return AccountOf(apiKey).BySymbol.Values.Sum(rows => rows.Count(r => r.Trade is not null && r.TimeMs >= historyFloorMs));
        }
    }

    private static void Insert(List<StoredRow> rows, StoredRow row)
    {
        // Append is the common case (ids ascend); otherwise insert after every row with id <= the new one.
        var at = rows.Count;
        while (at > 0 && rows[at - 1].Id > row.Id)
        {
            at--;
        }

        rows.Insert(at, row);
    }

    private void EnsureSymbol(string symbol)
    {
        if (!_symbols.Contains(symbol, StringComparer.Ordinal))
        {
            _symbols.Add(symbol);
        }
    }

    private Account AccountOf(string apiKey) =>
        _accounts.TryGetValue(apiKey, out var account)
            ? account
            : throw new KeyNotFoundException("No account with this API key was added to the fake exchange.");

    private sealed class Account(string secret)
    {
        public string Secret { get; set; } = secret;

        public Dictionary<string, List<StoredRow>> BySymbol { get; } = new(StringComparer.Ordinal);

        /// <summary>(symbol, id, side) of every valid row: the dedup key of a fill.</summary>
        public HashSet<(string Symbol, long Id, string Side)> Keys { get; } = [];

        public List<StoredRow> RowsOf(string symbol)
        {
            if (!BySymbol.TryGetValue(symbol, out var rows))
            {
                rows = [];
                BySymbol.Add(symbol, rows);
            }

            return rows;
        }
    }
}
