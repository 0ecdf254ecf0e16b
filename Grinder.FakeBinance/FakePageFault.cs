namespace Grinder.FakeBinance;

/// <summary>What a page fault does to the rows of a served userTrades page (after selection, before writing).</summary>
public enum FakePageFaultKind
{
    /// <summary>Rows of <see cref="FakePageFault.ForeignSymbol"/> from the book, selected by the same fromId or time window,
    /// are merged into the page in id order (on an equal id the requested symbol's row comes first); the page is then cut to
    /// the request's limit. They are real trades of the foreign symbol.</summary>
    ForeignSymbolRows,

    /// <summary><see cref="FakePageFault.Rows"/> are merged into every matching page in id order, whatever the selection.
    /// They are not in the book and never count as trades.</summary>
    FabricatedRows,

    /// <summary>The page's rows in a seeded random order that is never ascending (when at least two ids differ).</summary>
    Shuffled,

    /// <summary>The SELL row of each self-trade pair (two rows, one id) comes before its BUY row.</summary>
    SellBeforeBuy,
}

/// <summary>A fault that shapes the rows of served userTrades pages of <paramref name="ApiKey"/> and <paramref name="Symbol"/>
/// (null matches any). Unlike <see cref="FakeFault"/> it is not queued: every active matching page fault applies, in the order
/// added, to each served page, for <paramref name="Times"/> pages or (null) until <see cref="FakeExchange.ClearPageFaults"/>.</summary>
public sealed record FakePageFault(
    FakePageFaultKind Kind,
    string? ApiKey = null,
    string? Symbol = null,
    int? Times = null,
    string? ForeignSymbol = null,
    IReadOnlyList<FakeTrade>? Rows = null,
    int Seed = 1)
{
    /// <summary>Null when valid, else why not.</summary>
    internal string? Problem() => this switch
    {
        { Times: < 1 } => "Times must be at least 1 (or null: until cleared).",
        { Kind: FakePageFaultKind.ForeignSymbolRows, ForeignSymbol: null or "" } => "ForeignSymbolRows needs ForeignSymbol.",
        { Kind: FakePageFaultKind.ForeignSymbolRows } when ForeignSymbol == Symbol => "ForeignSymbol must differ from Symbol.",
        { Kind: FakePageFaultKind.FabricatedRows, Rows: null or { Count: 0 } } => "FabricatedRows needs Rows.",
        _ => null,
    };
}
