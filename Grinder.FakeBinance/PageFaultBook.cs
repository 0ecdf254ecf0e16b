namespace Grinder.FakeBinance;

/// <summary>Active <see cref="FakePageFault"/>s and how they reshape a served page.</summary>
internal sealed class PageFaultBook
{
    private readonly Lock _gate = new();
    private readonly List<Active> _active = [];

    public int Count
    {
        get
        {
            lock (_gate)
            {
                return _active.Count;
            }
        }
    }

    public void Add(FakePageFault fault)
    {
        ArgumentNullException.ThrowIfNull(fault);
        if (fault.Problem() is { } problem)
        {
            throw new ArgumentException(problem, nameof(fault));
        }

        lock (_gate)
        {
            _active.Add(new Active(fault));
        }
    }

    public int Clear()
    {
        lock (_gate)
        {
            var count = _active.Count;
            _active.Clear();
            return count;
        }
    }

    /// <summary>Applies every active fault matching the request, in the order added, and uses up one of each one's pages.</summary>
    /// <param name="foreignRows">Selects a foreign symbol's rows with the request's own selection.</param>
    public List<StoredRow> Shape(string apiKey, string symbol, TradeSelection selection, List<StoredRow> rows, Func<string, List<StoredRow>> foreignRows)
    {
        lock (_gate)
        {
            for (var i = 0; i < _active.Count; i++)
            {
                var active = _active[i];
                var fault = active.Fault;
                if ((fault.ApiKey is not null && fault.ApiKey != apiKey) || (fault.Symbol is not null && fault.Symbol != symbol))
                {
                    continue;
                }

                if (fault.Kind == FakePageFaultKind.ForeignSymbolRows && fault.ForeignSymbol == symbol)
                {
                    continue;
                }

                rows = fault.Kind switch
                {
                    FakePageFaultKind.ForeignSymbolRows => [.. MergeById(rows, foreignRows(fault.ForeignSymbol!)).Take(selection.Limit)],
                    FakePageFaultKind.FabricatedRows => MergeById(rows, [.. fault.Rows!.Select(t => new StoredRow(t.Id, t.TimeMs, 0, t, null))]),
                    FakePageFaultKind.Shuffled => Shuffle(rows, active.Random),
                    FakePageFaultKind.SellBeforeBuy => SellFirst(rows),
                    _ => rows,
                };

                if (active.Remaining is { } remaining)
                {
                    if (remaining <= 1)
                    {
                        _active.RemoveAt(i--);
                    }
                    else
                    {
                        active.Remaining = remaining - 1;
                    }
                }
            }

            return rows;
        }
    }

    /// <summary>Stable merge by id: on an equal id the page's own rows come first.</summary>
    private static List<StoredRow> MergeById(List<StoredRow> own, List<StoredRow> extra)
    {
        var merged = new List<StoredRow>(own.Count + extra.Count);
        int i = 0, j = 0;
        var sortedExtra = extra.OrderBy(r => r.Id).ToList();
        while (i < own.Count || j < sortedExtra.Count)
        {
            if (j == sortedExtra.Count || (i < own.Count && own[i].Id <= sortedExtra[j].Id))
            {
                merged.Add(own[i++]);
            }
            else
            {
                merged.Add(sortedExtra[j++]);
            }
        }

        return merged;
    }

    private static List<StoredRow> Shuffle(List<StoredRow> rows, Random random)
    {
        var shuffled = rows.ToArray();
        random.Shuffle(shuffled);
        if (rows.Select(r => r.Id).Distinct().Count() > 1 && IsAscending(shuffled))
        {
            // A shuffle that happens to be ascending would test nothing: reverse it instead.
            Array.Reverse(shuffled);
        }

        return [.. shuffled];
    }

    private static bool IsAscending(StoredRow[] rows)
    {
        for (var i = 1; i < rows.Length; i++)
        {
            if (rows[i].Id < rows[i - 1].Id)
            {
                return false;
            }
        }

        return true;
    }

    private static List<StoredRow> SellFirst(List<StoredRow> rows)
    {
        var result = new List<StoredRow>(rows.Count);
        for (var i = 0; i < rows.Count; i++)
        {
            var row = rows[i];
            if (i + 1 < rows.Count && rows[i + 1].Id == row.Id && row.Trade?.Side == "BUY" && rows[i + 1].Trade?.Side == "SELL")
            {
                result.Add(rows[i + 1]);
                result.Add(row);
                i++;
            }
            else
            {
                result.Add(row);
            }
        }

        return result;
    }

    private sealed class Active(FakePageFault fault)
    {
        public FakePageFault Fault { get; } = fault;

        public int? Remaining { get; set; } = fault.Times;

        public Random Random { get; } = new(fault.Seed);
    }
}
