using System.Text.Json;
using Grinder.Grains;
using Grinder.Tests.Infrastructure;
using static Grinder.Tests.Ingest.IngestExpectations;

namespace Grinder.Tests.Ingest;

/// <summary>What happens to cursors and counters when storage misbehaves or is changed behind the grain's back.</summary>
[Collection(IngestClusterCollection.Name)]
public sealed class IngestStorageTests(IngestClusterFixture fixture)
{
    [Fact]
    public async Task A_cursor_edited_to_a_future_value_behind_the_grains_back_is_rejected_counted_logged_and_left_untouched()
    {
        var account = fixture.TakeAccount();
        var key = IngestClusterFixture.KeyOf(account);
        fixture.NewTrades(account, "BTCUSDT", 30, seed: 3);
        var grain = fixture.Account(account);
        await CountedAsync(grain, 30);
        await PollsAsync(grain, 1);

        // The operator's mistake: move the stored BTCUSDT cursor far ahead with plain SQL, just as new fills arrive, so
        // the poll that counts them is the one whose save meets the edit (those fills must not be lost).
        fixture.NewTrades(account, "BTCUSDT", 20, seed: 8);
        const long Future = 9_000_000_000;
        await fixture.Database.QueryAsync(
            """
            UPDATE grinder_grain_state
               SET payload = convert_to(jsonb_set(convert_from(payload, 'UTF8')::jsonb, '{Symbols,BTCUSDT,LastTradeId}', to_jsonb(@future))::text, 'UTF8')
             WHERE grain_id_ext = @key AND grain_type = 'ingest'
            """,
            ("future", Future),
            ("key", "acct-" + account));

        await Eventually.ReturnsAsync(
            grain.GetSnapshotAsync,
            snapshot => Saves(snapshot, CursorResult.RejectedNonMonotonic) >= 2,
            TimeSpan.FromSeconds(60),
            "non-monotonic rejections");

        var log = Assert.Single(fixture.Logs.Event("FILL_CURSOR_REJECTED_NON_MONOTONIC").Where(line => line.Message.Contains($"account={account}", StringComparison.Ordinal)).Take(1));
        Assert.Contains($"existing_key=({Future}, ", log.Message);
        Assert.Contains("new_key=(", log.Message);

        // The stored cursor is exactly what the operator wrote, while polls and saves go on.
        await PollsAsync(grain, 2);
        Assert.Equal(Future, (await StoredAsync(account)).GetProperty("Symbols").GetProperty("BTCUSDT").GetProperty("LastTradeId").GetInt64());

        // And the account keeps counting, exactly once, from where it really was.
        fixture.NewTrades(account, "BTCUSDT", 5, seed: 4);
        var trades = fixture.Exchange.Trades(key, "BTCUSDT");
        Assert.Equal(55, trades.Count);
        await CountedAsync(grain, 55);
        var settled = await PollsAsync(grain, 2);
        IngestExpectations.Equal(Totals(trades), settled.Fills);
    }

    [Fact]
    public async Task While_storage_refuses_writes_save_errors_grow_the_silo_stays_up_and_everything_is_saved_after()
    {
        var account = fixture.TakeAccount();
        var key = IngestClusterFixture.KeyOf(account);
        fixture.NewTrades(account, "ETHUSDT", 40, seed: 5);
        var grain = fixture.Account(account);
        await CountedAsync(grain, 40);

        await fixture.Database.RevokeGrainStorageAsync();
        try
        {
            var failing = await Eventually.ReturnsAsync(grain.GetSnapshotAsync, snapshot => Saves(snapshot, CursorResult.Error) >= 2, TimeSpan.FromSeconds(60), "save errors");

            // Fills keep being read and counted in memory meanwhile.
            fixture.NewTrades(account, "ETHUSDT", 25, seed: 6);
            await CountedAsync(grain, 65);
            var health = await grain.GetHealthAsync();
            Assert.NotNull(health.LastSaveError);
            Assert.True(health.Polling);
            Assert.True(failing.LastSaveUnixMs is not null);
        }
        finally
        {
            await fixture.Database.GrantGrainStorageAsync();
        }

        // The fills were in the ledger all along; once writes are back the read position is stored where it stands.
        var last = fixture.Exchange.Trades(key, "ETHUSDT").Max(t => t.Id);
        await Eventually.TrueAsync(
            async () => StoredPosition(await StoredAsync(account), "ETHUSDT") == last,
            TimeSpan.FromSeconds(60),
            "the read position past all 65 fills in stored state");
        var stored = await StoredAsync(account);
        Assert.True(stored.GetProperty("CursorSaves").GetProperty("error").GetInt64() >= 2);
        Assert.Equal(65, Count(await grain.GetSnapshotAsync()));
        await LedgerEqualsExchangeAsync(fixture.Ledger, account, fixture.Exchange, key);
    }

    [Fact]
    public async Task Two_activations_racing_for_one_account_keep_the_totals_exact()
    {
        var account = fixture.TakeAccount();
        var key = IngestClusterFixture.KeyOf(account);

        // A second cluster on the same database and service id: every account gets a second, concurrent activation.
        var rival = await fixture.StartClusterAsync(fixture.Database.ConnectionString, "rival-" + Guid.NewGuid().ToString("N")[..6], silos: 1);
        try
        {
            var ours = fixture.Account(account);
            var theirs = rival.Client.GetGrain<IFillIngestGrain>("acct-" + account);
            await ours.EnsurePollingAsync();
            await theirs.EnsurePollingAsync();

            for (var round = 0; round < 3; round++)
            {
                fixture.NewTrades(account, "BTCUSDT", 200, seed: 100 + round, selfTradePairFraction: 0.1);
                fixture.NewTrades(account, "ETHUSDT", 150, seed: 200 + round);
                await PollsAsync(ours, 2);
                await PollsAsync(theirs, 2);
            }

            var expected = IngestClusterFixture.Symbols.SelectMany(symbol => fixture.Exchange.Trades(key, symbol)).ToList();
            await CountedAsync(ours, expected.Count);
            await CountedAsync(theirs, expected.Count);
            await PollsAsync(ours, 2);
            await PollsAsync(theirs, 2);

            // Both activations wrote the same rows into the ledger; its key let each count once.
            IngestExpectations.Equal(Totals(expected), (await ours.GetSnapshotAsync()).Fills);
            IngestExpectations.Equal(Totals(expected), (await theirs.GetSnapshotAsync()).Fills);
            await LedgerEqualsExchangeAsync(fixture.Ledger, account, fixture.Exchange, key);
        }
        finally
        {
            await rival.StopAllSilosAsync();
            await rival.DisposeAsync();
        }
    }

    private async Task<JsonElement> StoredAsync(string account)
    {
        var text = await fixture.Database.ScalarAsync<string>(
            "SELECT state::text FROM grinder_grain_state_json WHERE grain_key = @key AND state_name = 'ingest'",
            ("key", "acct-" + account));
        return JsonDocument.Parse(text ?? "{}").RootElement.Clone();
    }

    private static long? StoredPosition(JsonElement state, string symbol) =>
        state.TryGetProperty("Symbols", out var symbols) && symbols.TryGetProperty(symbol, out var cursor) && cursor.GetProperty("LastTradeId").ValueKind == JsonValueKind.Number
            ? cursor.GetProperty("LastTradeId").GetInt64()
            : null;
}
