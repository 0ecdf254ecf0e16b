using System.Globalization;
using System.Text.RegularExpressions;
using Grinder.Grains.Ingest;
using Grinder.Grains.Ledger;
using Microsoft.Extensions.Primitives;

namespace Grinder.Silo.Http;

/// <summary>The validated parameters of <c>GET /fills</c> or <c>GET /fills/summary</c>.</summary>
/// <param name="Limit">Rows per page; null only for a CSV export without <c>limit</c> (every matching row).</param>
public sealed partial record FillRequest(ConfiguredAccount Account, string? Symbol, long? FromMs, long? ToMs, FillPageKey? After, int? Limit, bool Csv)
{
    /// <summary>Rows of a JSON page when <c>limit</c> is not given.</summary>
    public const int DefaultLimit = 500;

    /// <summary>Most rows of one JSON page.</summary>
    public const int MaxLimit = 1000;

    private static readonly string[] ListParameters = ["account", "symbol", "from", "to", "limit", "after", "format"];
    private static readonly string[] SummaryParameters = ["account", "from", "to"];

    public FillQuery ToQuery(int? limit) => new(Account.Id, Symbol, FromMs, ToMs, After, limit);

    /// <summary>Parses the query of <c>GET /fills</c>; on failure the status (400 or 404) and one line naming the parameter.</summary>
    public static (FillRequest? Request, int Status, string? Error) ParseList(HttpRequest request, IAccountDirectory accounts) =>
        Parse(request, accounts, ListParameters, summary: false);

    /// <summary>Parses the query of <c>GET /fills/summary</c> (account, from, to).</summary>
    public static (FillRequest? Request, int Status, string? Error) ParseSummary(HttpRequest request, IAccountDirectory accounts) =>
        Parse(request, accounts, SummaryParameters, summary: true);

    private static (FillRequest?, int, string?) Parse(HttpRequest request, IAccountDirectory accounts, string[] known, bool summary)
    {
        var query = request.Query;
        foreach (var (name, values) in query)
        {
            // A misspelt filter (symbols=, start=) must not silently widen the answer to every row.
            if (!known.Contains(name, StringComparer.Ordinal))
            {
                return Bad($"{name}: unknown parameter (known: {string.Join(", ", known)})");
            }

            if (values.Count > 1)
            {
                return Bad($"{name}: given more than once");
            }
        }

        var csv = false;
        if (!summary)
        {
            switch (Single(query, "format"))
            {
                case null:
                    csv = request.Headers.Accept.Any(accept => accept?.Contains("text/csv", StringComparison.OrdinalIgnoreCase) == true);
                    break;
                case "csv":
                    csv = true;
                    break;
                case "json":
                    break;
                default:
                    return Bad("format: must be json or csv");
            }
        }

        long? from = null, to = null;
        if (Single(query, "from") is { } fromText)
        {
            if (ParseTime(fromText) is not { } value)
            {
                return Bad("from: not an ISO-8601 time (e.g. 2026-12-01T00:00:00Z)");
            }

            from = value;
        }

        if (Single(query, "to") is { } toText)
        {
            if (ParseTime(toText) is not { } value)
            {
                return Bad("to: not an ISO-8601 time (e.g. 2026-12-02T00:00:00Z)");
            }

            to = value;
        }

        if (from > to)
        {
            return Bad("from: must not be after to");
        }

        string? symbol = null;
        if (Single(query, "symbol") is { } symbolText)
        {
            symbol = symbolText.ToUpperInvariant();
            if (!SymbolPattern().IsMatch(symbol))
            {
                return Bad("symbol: must be 2 to 30 letters or digits (e.g. BTCUSDT)");
            }
        }

        int? limit = csv ? null : DefaultLimit;
        if (Single(query, "limit") is { } limitText)
        {
            var max = csv ? int.MaxValue : MaxLimit;
            if (!int.TryParse(limitText, NumberStyles.None, CultureInfo.InvariantCulture, out var parsed) || parsed < 1 || parsed > max)
            {
                return Bad(csv ? "limit: must be a positive integer" : $"limit: must be an integer from 1 to {MaxLimit}");
            }

            limit = parsed;
        }

        FillPageKey? after = null;
        if (Single(query, "after") is { } afterText)
        {
            after = FillPageToken.Decode(afterText);
            if (after is null)
            {
                return Bad("after: not a page token of this API (use the value of next)");
            }
        }

        var accountText = Single(query, "account");
        ConfiguredAccount? account;
        if (accountText is null)
        {
            // One configured account (the demo, or only BINANCE_API_KEY) needs no name, as under /admin.
            if (accounts.Accounts.Count != 1)
            {
                return Bad("account: required (configured: " + string.Join(", ", accounts.Accounts.Select(a => a.Id)) + ")");
            }

            account = accounts.Accounts[0];
        }
        else
        {
            account = accounts.Find(accountText);
            if (account is null)
            {
                return (null, StatusCodes.Status404NotFound,
                    $"account: unknown account '{accountText}' (configured: {string.Join(", ", accounts.Accounts.Select(a => a.Id))})");
            }
        }

        return (new FillRequest(account, symbol, from, to, after, limit, csv), StatusCodes.Status200OK, null);
    }

    private static (FillRequest?, int, string?) Bad(string error) => (null, StatusCodes.Status400BadRequest, error);

    private static string? Single(IQueryCollection query, string name) =>
        query.TryGetValue(name, out StringValues values) ? values.ToString() : null;

    private static long? ParseTime(string text) =>
        DateTimeOffset.TryParse(text, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var time)
            ? time.ToUnixTimeMilliseconds()
            : null;

    [GeneratedRegex("^[A-Z0-9]{2,30}$")]
    private static partial Regex SymbolPattern();
}
