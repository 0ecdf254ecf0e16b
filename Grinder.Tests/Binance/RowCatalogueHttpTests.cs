using Grinder.FakeBinance;
using Grinder.Grains.Binance;
using Grinder.Tests.FakeBinance;

namespace Grinder.Tests.Binance;

/// <summary>The row catalogue served verbatim by the fake exchange and read through the real client (defect 2: no poison pill).</summary>
[Collection(FakeBinanceCollection.Name)]
public sealed class RowCatalogueHttpTests(FakeExchangeFixture fixture) : IDisposable
{
    private const long FirstId = 5_000_001;
    private readonly FakeExchange _exchange = fixture.Exchange;
    private readonly ClientHarness _client = new(fixture.Exchange.BaseUrl);

    public void Dispose() => _client.Dispose();

    [Fact]
    public async Task Every_catalogue_row_gets_its_outcome_and_bad_rows_never_hold_the_cursor()
    {
        var account = fixture.NewCredentials();
        var nowMs = _exchange.ServerTime.ToUnixTimeMilliseconds();

        // Bad rows interleaved with good ones, and a good row last so the cursor must pass them all.
        var cases = RowCatalogue.Rejected
            .SelectMany((bad, i) => new[] { bad, RowCatalogue.Valid[i % RowCatalogue.Valid.Count] })
            .Select((c, i) => (Case: c, Id: FirstId + i, Time: nowMs - 600_000 + (i * 1000)))
            .ToList();
        foreach (var (row, id, time) in cases)
        {
            _exchange.AddRawRow(account.ApiKey, RowCatalogue.Symbol, id, time, row.Render(id, time));
        }

        var result = await _client.FetchAsync(account, RowCatalogue.Symbol, new FetchPosition(FirstId - 1, 0, null, false));

        Assert.Null(result.Error);
        Assert.True(RowCatalogue.Rejected.Count >= 25);
        Assert.Equal(cases.Where(c => c.Case.ExpectedReason is null).Select(c => c.Id), result.Trades.Select(t => t.Id));
        var expectedRejections = cases.Where(c => c.Case.ExpectedReason is not null)
            .Select(c => (c.Case.Name, Reason: c.Case.ExpectedReason, TradeId: c.Case.IdReadable ? c.Id : (long?)null, Raw: c.Case.Render(c.Id, c.Time)));
        Assert.Equal(expectedRejections, cases.Where(c => c.Case.ExpectedReason is not null)
            .Zip(result.Rejected, (c, r) => (c.Case.Name, Reason: (string?)r.Reason, r.TradeId, r.Raw)));
        Assert.Equal(new FetchPosition(cases[^1].Id, cases[^1].Time, null, false), result.Next);

        // The next poll starts after the last row: nothing is re-read, nothing re-rejected.
        var next = await _client.FetchAsync(account, RowCatalogue.Symbol, result.Next);
        Assert.Null(next.Error);
        Assert.Empty(next.Trades);
        Assert.Empty(next.Rejected);
        Assert.Equal(result.Next, next.Next);

        // Not logged by the reader (the account logs each row once, when it quarantines it), so no raw row reaches a log here.
        Assert.Empty(_client.Logs.Named("FILL_PARSE_ERROR"));
        _client.AssertCleanRun(_exchange, account);
    }

    [Fact]
    public async Task Rows_without_a_readable_id_cannot_move_the_cursor_but_do_not_stop_the_rows_around_them()
    {
        var account = fixture.NewCredentials();
        var nowMs = _exchange.ServerTime.ToUnixTimeMilliseconds();
        var good = RowCatalogue.Valid[0];
        var noId = RowCatalogue.Rejected.Single(c => c.Name == "id missing");
        _exchange.AddRawRow(account.ApiKey, RowCatalogue.Symbol, FirstId, nowMs - 3000, good.Render(FirstId, nowMs - 3000));
        _exchange.AddRawRow(account.ApiKey, RowCatalogue.Symbol, FirstId + 1, nowMs - 2000, noId.Render(FirstId + 1, nowMs - 2000));

        var result = await _client.FetchAsync(account, RowCatalogue.Symbol, new FetchPosition(FirstId - 1, 0, null, false));

        Assert.Equal([FirstId], result.Trades.Select(t => t.Id));
        var rejected = Assert.Single(result.Rejected);
        Assert.Null(rejected.TradeId);
        Assert.Equal(FirstId, result.Next.LastTradeId);

        // Once a later readable row exists, the cursor passes the unreadable one too.
        _exchange.AddRawRow(account.ApiKey, RowCatalogue.Symbol, FirstId + 2, nowMs - 1000, good.Render(FirstId + 2, nowMs - 1000));
        var next = await _client.FetchAsync(account, RowCatalogue.Symbol, result.Next);
        Assert.Equal([FirstId + 2], next.Trades.Select(t => t.Id));
        Assert.Equal(FirstId + 2, next.Next.LastTradeId);
        _client.AssertCleanRun(_exchange, account);
    }
}
