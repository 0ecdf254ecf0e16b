namespace Grinder.FakeBinance;

/// <summary>One stored row: a valid <see cref="FakeTrade"/> or a raw (invalid) JSON object served verbatim.</summary>
/// <param name="Hold">Set while the row is hidden from userTrades (see <see cref="FakeVisibility"/>); guarded by the book's lock.</param>
/// <param name="OutsideSequence">A raw row whose id is not part of the symbol's id sequence (a corrupt huge id): new ids do not continue from it.</param>
internal sealed record StoredRow(long Id, long TimeMs, long Sequence, FakeTrade? Trade, string? Raw, RowHold? Hold = null, bool OutsideSequence = false);

/// <summary>Why a row is not served yet: a moment and a number of served requests, both must pass. Mutated under the book's lock.</summary>
internal sealed class RowHold(long visibleFromMs, int requests)
{
    public long VisibleFromMs { get; set; } = visibleFromMs;

    public int RemainingRequests { get; set; } = requests;

    public bool Released(long nowMs) => RemainingRequests <= 0 && nowMs >= VisibleFromMs;
}

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

    /// <summary>Adds valid rows in one step. Throws when a (symbol, id, side) already exists: that is the dedup key a client relies on.
    /// Rows are hidden per <paramref name="visibility"/>, else per the account's REST lag, else visible at once.</summary>
    public void AddTrades(string apiKey, IReadOnlyList<FakeTrade> trades, long nowMs, FakeVisibility? visibility = null)
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
                Insert(account.RowsOf(trade.Symbol), new StoredRow(trade.Id, trade.TimeMs, ++_sequence, trade, null, HoldFor(account, visibility, nowMs)));
            }
        }
    }

    public void AddRaw(string apiKey, string symbol, long id, long timeMs, string raw, bool outsideSequence = false)
    {
        lock (_gate)
        {
            var account = AccountOf(apiKey);
            EnsureSymbol(symbol);
            Insert(account.RowsOf(symbol), new StoredRow(id, timeMs, ++_sequence, null, raw, OutsideSequence: outsideSequence));
        }
    }

    /// <summary>Runs <paramref name="create"/> with the symbol's tail and stores what it returns, atomically.</summary>
    public IReadOnlyList<FakeTrade> Append(string apiKey, string symbol, long nowMs, Func<SymbolTail, IReadOnlyList<FakeTrade>> create, FakeVisibility? visibility = null) =>
        AppendAcross(apiKey, nowMs, tailOf => create(tailOf(symbol)), visibility);

    /// <summary>Runs <paramref name="create"/> with a lookup of any symbol's tail and stores what it returns, atomically.</summary>
    public IReadOnlyList<FakeTrade> AppendAcross(string apiKey, long nowMs, Func<Func<string, SymbolTail>, IReadOnlyList<FakeTrade>> create, FakeVisibility? visibility = null)
    {
        lock (_gate)
        {
            var account = AccountOf(apiKey);
            var created = create(symbol => TailOf(account.RowsOf(symbol)));
            AddTrades(apiKey, created, nowMs, visibility);
            return created;
        }
    }

    /// <summary>Rows a userTrades request returns, ascending by id. Rows older than <paramref name="historyFloorMs"/> are out of reach,
    /// hidden rows are left out. With <paramref name="countsAsRequest"/> the request counts against the symbol's request holds
    /// (after selecting, so a row hidden for N requests is first seen by request N+1).</summary>
    public List<StoredRow> Select(string apiKey, string symbol, TradeSelection selection, long historyFloorMs, long nowMs, bool countsAsRequest = true)
    {
        lock (_gate)
        {
            var rows = AccountOf(apiKey).RowsOf(symbol);
            var selected = SelectVisible(rows, selection, historyFloorMs, nowMs);
            if (countsAsRequest)
            {
                foreach (var row in rows)
                {
                    if (row.Hold is { RemainingRequests: > 0 } hold)
                    {
                        hold.RemainingRequests--;
                    }
                }
            }

            return selected;
        }
    }

    /// <summary>Makes every hidden row of the account visible now. Returns how many were still hidden.</summary>
    public int Reveal(string apiKey, long nowMs)
    {
        lock (_gate)
        {
            var revealed = 0;
            foreach (var rows in AccountOf(apiKey).BySymbol.Values)
            {
                for (var i = 0; i < rows.Count; i++)
                {
                    if (rows[i].Hold is { } hold)
                    {
                        revealed += hold.Released(nowMs) ? 0 : 1;
                        rows[i] = rows[i] with { Hold = null };
                    }
                }
            }

            return revealed;
        }
    }

    /// <summary>Hides the valid rows of a symbol with ids in [<paramref name="fromId"/>, <paramref name="toId"/>]. Returns how many.</summary>
    public int Hide(string apiKey, string symbol, long fromId, long toId, FakeVisibility visibility, long nowMs)
    {
        lock (_gate)
        {
            var rows = AccountOf(apiKey).RowsOf(symbol);
            var hidden = 0;
            for (var i = 0; i < rows.Count; i++)
            {
                if (rows[i].Trade is not null && rows[i].Id >= fromId && rows[i].Id <= toId)
                {
                    rows[i] = rows[i] with { Hold = new RowHold(visibility.VisibleFromMs(nowMs), visibility.Requests) };
                    hidden++;
                }
            }

            return hidden;
        }
    }

    /// <summary>Valid rows still hidden from userTrades.</summary>
    public int HiddenCount(string apiKey, long nowMs)
    {
        lock (_gate)
        {
            return AccountOf(apiKey).BySymbol.Values.Sum(rows => rows.Count(r => r.Trade is not null && r.Hold is { } hold && !hold.Released(nowMs)));
        }
    }

    /// <summary>Every trade added from now on is hidden from userTrades for <paramref name="lag"/> (zero: visible at once).</summary>
    public void SetRestLag(string apiKey, TimeSpan lag)
    {
        lock (_gate)
        {
            AccountOf(apiKey).RestLag = lag;
        }
    }

    /// <summary>(symbol, id, side) of every valid row within the history Binance serves, hidden rows included.</summary>
    public IReadOnlySet<FakeTradeKey> Keys(string apiKey, long historyFloorMs)
    {
        lock (_gate)
        {
            return AccountOf(apiKey).BySymbol.Values
                .SelectMany(rows => rows)
                .Where(r => r.Trade is not null && r.TimeMs >= historyFloorMs)
                .Select(r => new FakeTradeKey(r.Trade!.Symbol, r.Trade.Id, r.Trade.Side))
                .ToHashSet();
        }
    }

    private static List<StoredRow> SelectVisible(List<StoredRow> rows, TradeSelection selection, long historyFloorMs, long nowMs)
    {
        IEnumerable<StoredRow> matching = rows.Where(r =>
            r.TimeMs >= historyFloorMs
            && (r.Hold is null || r.Hold.Released(nowMs))
            && (selection.OrderId is null || r.Trade?.OrderId == selection.OrderId));
        if (selection.FromId is { } fromId)
        {
            // fromId is inclusive ("Trade id to fetch from": Binance docs).
            return [.. matching.SkipWhile(r => r.Id < fromId).Take(selection.Limit)];
        }

        matching = matching.Where(r => r.TimeMs >= selection.FromTimeMs && r.TimeMs <= selection.ToTimeMs);
        return selection.MostRecent ? [.. matching.TakeLast(selection.Limit)] : [.. matching.Take(selection.Limit)];
    }

    private static RowHold? HoldFor(Account account, FakeVisibility? visibility, long nowMs)
    {
        if (visibility is not null)
        {
            return new RowHold(visibility.VisibleFromMs(nowMs), visibility.Requests);
        }

        return account.RestLag > TimeSpan.Zero ? new RowHold(nowMs + (long)account.RestLag.TotalMilliseconds, 0) : null;
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

    private static SymbolTail TailOf(List<StoredRow> rows)
    {
        var lastValid = rows.LastOrDefault(r => r.Trade is not null)?.Trade;
        return new SymbolTail(
            rows.Where(r => !r.OutsideSequence).Select(r => r.Id).DefaultIfEmpty(0).Max(),
            rows.Where(r => r.Trade is not null).Select(r => r.Trade!.OrderId).DefaultIfEmpty(0).Max(),
            rows.Count == 0 ? 0 : rows.Max(r => r.TimeMs),
            lastValid?.Price);
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

        /// <summary>How long new trades stay hidden from userTrades (REST lagging the stream).</summary>
        public TimeSpan RestLag { get; set; }

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
