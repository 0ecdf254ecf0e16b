using System.Globalization;
using System.Text.RegularExpressions;
using Grinder.FakeBinance;
using Grinder.Tests.Infrastructure;
using static Grinder.Tests.Ingest.IngestExpectations;

namespace Grinder.Tests.Ingest;

/// <summary>
/// Binance counts weight per IP, and after a 429 or 418 "it's your obligation as an API to back off": on the two-silo
/// cluster, a refusal of one account's request holds back every account of that silo until Retry-After has passed.
/// </summary>
[Collection(IngestClusterCollection.Name)]
public sealed partial class RateLimitIngestTests(IngestClusterFixture fixture)
{
    private const int RetryAfterSeconds = 3;
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(60);

    [Theory]
    [InlineData(FakeFaultKind.RateLimited429, 429)]
    [InlineData(FakeFaultKind.Banned418, 418)]
    public async Task A_429_or_418_for_one_account_holds_back_every_account_of_its_silo_until_retry_after(FakeFaultKind kind, int status)
    {
        // Three accounts of this test: two of them share a silo. Every account of the fixture is where it belongs (a silo
        // killed or started by another test moves accounts for a few polls), so requests tell the silo by their API key.
        var mine = new[] { fixture.TakeAccount(), fixture.TakeAccount(), fixture.TakeAccount() };
        var placed = await Activations.OnTheirOwnersAsync(fixture.Cluster, fixture.AllAccounts, Wait, "every account on its owner");
        var silo = mine.GroupBy(account => placed[account]).First(group => group.Count() >= 2).Key;
        var limited = mine.First(account => placed[account].Equals(silo));
        var onSilo = fixture.AllAccounts.Where(account => placed[account].Equals(silo)).Select(IngestClusterFixture.KeyOf).ToHashSet();
        var elsewhere = fixture.AllAccounts.Where(account => !placed[account].Equals(silo)).Select(IngestClusterFixture.KeyOf).ToHashSet();
        Assert.True(onSilo.Count >= 2 && elsewhere.Count >= 1, $"{onSilo.Count} accounts on the silo, {elsewhere.Count} elsewhere");
        foreach (var (account, index) in mine.Select((account, index) => (account, index)))
        {
            fixture.NewTrades(account, "BTCUSDT", 4, seed: 70 + index + status);
        }

        // Retry-After 3 s, longer than the silos' DefaultRetryAfter (2 s): the header must win.
        fixture.Exchange.EnqueueFault(new FakeFault(kind, ApiKey: IngestClusterFixture.KeyOf(limited), StatusCode: status, RetryAfterSeconds: RetryAfterSeconds));
        var refused = await fixture.Exchange.WaitForRequestAsync(request => request.ApiKey == IngestClusterFixture.KeyOf(limited) && request.Fault == kind, Wait);

        // The silo's governor says when it saw the answer and until when it holds back (both on the clock the fake stamps with).
        var pause = await Eventually.ReturnsAsync(
            () => Task.FromResult(fixture.Logs.Event("BINANCE_RATE_LIMITED").Select(line => Pause(line.Message, status)).LastOrDefault(pause => pause?.Until > refused.Time)),
            pause => pause is not null,
            Wait,
            $"BINANCE_RATE_LIMITED status={status}");
        var (seenAt, until) = pause!.Value;
        Assert.Equal(TimeSpan.FromSeconds(RetryAfterSeconds), until - seenAt);

        // Every account of that silo asks again once the pause is over.
        await Eventually.TrueAsync(
            () => Task.FromResult(onSilo.All(apiKey => fixture.Exchange.Requests.Any(request => request.ApiKey == apiKey && request.Time >= until))),
            Wait,
            "every account of the silo to resume after Retry-After");

        // Meanwhile none of them sent one. An account reads one request at a time, so at most the one already on its way when
        // the silo saw the answer arrives after that moment; the refused account had none on its way. The other silo's
        // accounts went on polling: the pause is the silo's (its IP's), and the window is one in which requests flowed.
        var during = fixture.Exchange.Requests.Where(request => request.ApiKey is not null && request.Time >= seenAt && request.Time < until).ToList();
        foreach (var apiKey in onSilo)
        {
            var sent = during.Count(request => request.ApiKey == apiKey);
            Assert.True(sent <= (apiKey == IngestClusterFixture.KeyOf(limited) ? 0 : 1), $"{apiKey} sent {sent} requests during the {RetryAfterSeconds} s pause of its silo");
        }

        Assert.Contains(during, request => elsewhere.Contains(request.ApiKey!));

        foreach (var account in mine)
        {
            await CountedAsync(fixture.Account(account), fixture.Exchange.TradeKeys(IngestClusterFixture.KeyOf(account)).Count);
            await LedgerEqualsExchangeAsync(fixture.Ledger, account, fixture.Exchange, IngestClusterFixture.KeyOf(account));
        }
    }

    /// <summary>From a BINANCE_RATE_LIMITED line of <paramref name="status"/>: when the silo saw the answer and until when it pauses.</summary>
    private static (DateTimeOffset SeenAt, DateTimeOffset Until)? Pause(string message, int status)
    {
        var match = RateLimitedLine().Match(message);
        if (!match.Success || match.Groups["status"].Value != status.ToString(CultureInfo.InvariantCulture))
        {
            return null;
        }

        var until = DateTimeOffset.Parse(match.Groups["until"].Value, CultureInfo.InvariantCulture, DateTimeStyles.RoundtripKind);
        return (until - TimeSpan.FromSeconds(double.Parse(match.Groups["seconds"].Value, CultureInfo.InvariantCulture)), until);
    }

    [GeneratedRegex(@"BINANCE_RATE_LIMITED status=(?<status>\d+): .* pauses for (?<seconds>[0-9.]+) s \(until (?<until>[^)]+)\)")]
    private static partial Regex RateLimitedLine();
}
