using System.Text.RegularExpressions;
using Grinder.Grains.Binance;

namespace Grinder.Tests.Binance;

/// <summary>
/// Runbook safety invariants 2 and 3 ("zero write ops in fill code", "broader write-op grep") in C# terms: the fill
/// code (Grinder.Grains, Grinder.Silo) names no order endpoint and no write verb, and every Binance path it names is
/// one of the read-only allow-list. The one exception is the user data stream's listenKey: POST and PUT on exactly
/// <c>/fapi/v1/listenKey</c>, named only in <c>BinanceEndpoints.cs</c> (never DELETE, never another path), and the guard
/// handler proves at run time that nothing else leaves the process.
/// </summary>
public sealed partial class ReadOnlyInvariantTests
{
    private static readonly (string Rule, Regex Pattern)[] Forbidden =
    [
        ("order endpoint", OrderEndpoint()),
        ("batchOrders", new Regex("batchOrders", RegexOptions.IgnoreCase)),
        ("newOrder", new Regex("new_?Order", RegexOptions.IgnoreCase)),
        ("cancelReplace / cancel endpoint", new Regex(@"cancel_?(Replace|Order|All|Batch|Multiple)", RegexOptions.IgnoreCase)),
        ("cancel in a string literal", new Regex("\"[^\"\\n]*cancel[^\"\\n]*\"", RegexOptions.IgnoreCase)),
        ("place/replace order", new Regex(@"(place|replace|amend)_?Order", RegexOptions.IgnoreCase)),
        ("write HttpMethod", new Regex(@"HttpMethod\s*\.\s*(Post|Put|Delete|Patch)\b")),
        ("custom HttpMethod", new Regex(@"new\s+HttpMethod\s*\(")),
        ("write verb helper", new Regex(@"\b(Post|Put|Delete|Patch)(AsJson)?Async\s*\(")),
        ("write verb literal", new Regex("\"(POST|PUT|DELETE|PATCH)\"", RegexOptions.IgnoreCase)),
    ];

    /// <summary>The only lines allowed to name a write method: the two listenKey methods in the endpoint list.</summary>
    private static readonly (string File, Regex Line)[] ListenKeyExemptions =
    [
        ("Grinder.Grains/Binance/BinanceEndpoints.cs", new Regex(@"^\s*public static readonly HttpMethod ListenKeyStart = HttpMethod\.Post;\s*$")),
        ("Grinder.Grains/Binance/BinanceEndpoints.cs", new Regex(@"^\s*public static readonly HttpMethod ListenKeyKeepAlive = HttpMethod\.Put;\s*$")),
    ];

    [GeneratedRegex(@"/(fapi|dapi|papi|eapi|sapi|api)/v\d+/order", RegexOptions.IgnoreCase)]
    private static partial Regex OrderEndpoint();

    [GeneratedRegex(@"/(fapi|dapi|papi|eapi|sapi|api)/v\d+/[A-Za-z0-9/]+")]
    private static partial Regex AnyBinancePath();

    private static string RepositoryRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "Grinder.sln")))
            {
                return dir.FullName;
            }
        }

        throw new InvalidOperationException("Grinder.sln not found above " + AppContext.BaseDirectory);
    }

    private static List<string> FillSourceFiles()
    {
        var root = RepositoryRoot();
        var files = new List<string>();
        foreach (var project in new[] { "Grinder.Grains", "Grinder.Silo" })
        {
            var dir = Path.Combine(root, project);
            if (!Directory.Exists(dir))
            {
                continue;
            }

            files.AddRange(Directory.EnumerateFiles(dir, "*.cs", SearchOption.AllDirectories)
                .Where(f => !f.Contains($"{Path.DirectorySeparatorChar}obj{Path.DirectorySeparatorChar}", StringComparison.Ordinal)
                    && !f.Contains($"{Path.DirectorySeparatorChar}bin{Path.DirectorySeparatorChar}", StringComparison.Ordinal)));
        }

        return files;
    }

    /// <summary>True for the exact lines of <see cref="ListenKeyExemptions"/> in their file.</summary>
    internal static bool IsListenKeyExemption(string fileName, string line) =>
        ListenKeyExemptions.Any(e => fileName.Replace('\\', '/') == e.File && e.Line.IsMatch(line.TrimEnd('\r')));

    internal static IEnumerable<string> Violations(string fileName, string source)
    {
        var lines = source.Split('\n');
        for (var i = 0; i < lines.Length; i++)
        {
            // Comment lines are prose, not calls (the runbook's grep uses --type py for the same reason).
            if (lines[i].TrimStart().StartsWith("//", StringComparison.Ordinal))
            {
                continue;
            }

            var exempt = IsListenKeyExemption(fileName, lines[i]);
            foreach (var (rule, pattern) in Forbidden)
            {
                if (pattern.IsMatch(lines[i]) && !(exempt && rule == "write HttpMethod"))
                {
                    yield return $"{fileName}:{i + 1}: {rule}: {lines[i].Trim()}";
                }
            }

            foreach (Match path in AnyBinancePath().Matches(lines[i]))
            {
                if (!BinanceEndpoints.AllowedPaths.Contains(path.Value) && path.Value != BinanceEndpoints.ListenKey)
                {
                    yield return $"{fileName}:{i + 1}: Binance path outside the read-only allow-list: {path.Value}";
                }
            }
        }
    }

    [Fact]
    public void Fill_code_has_no_order_endpoint_and_no_write_verb()
    {
        var files = FillSourceFiles();

        // The scan must actually cover the Binance client, or it proves nothing.
        Assert.Contains(files, f => f.EndsWith("BinanceRestClient.cs", StringComparison.Ordinal));
        Assert.Contains(files, f => f.EndsWith("UserTradesFetcher.cs", StringComparison.Ordinal));

        var violations = files.SelectMany(f => Violations(Path.GetRelativePath(RepositoryRoot(), f), File.ReadAllText(f))).ToList();

        Assert.True(violations.Count == 0, "Write operations in fill code:\n" + string.Join("\n", violations));
    }

    [Theory]
    [InlineData("var uri = \"/fapi/v1/order?symbol=BTCUSDT\";")]
    [InlineData("const string Path = \"/fapi/v1/batchOrders\";")]
    [InlineData("await client.SendAsync(new HttpRequestMessage(HttpMethod.Post, uri));")]
    [InlineData("await client.SendAsync(new HttpRequestMessage(HttpMethod.Delete, uri));")]
    [InlineData("await http.PostAsync(uri, content);")]
    [InlineData("await http.PutAsync(uri, content);")]
    [InlineData("await http.DeleteAsync(uri);")]
    [InlineData("var m = new HttpMethod(\"POST\");")]
    [InlineData("Task NewOrderAsync();")]
    [InlineData("var p = \"/fapi/v1/allOpenOrders\";")]
    [InlineData("var p = \"/fapi/v1/countdownCancelAll\";")]
    [InlineData("void CancelReplace() {}")]
    [InlineData("var p = \"/fapi/v1/leverage\";")]
    public void The_scanner_catches_write_operations(string line)
    {
        Assert.NotEmpty(Violations("sample.cs", line));
    }

    [Fact]
    public void Each_listen_key_exemption_is_used_exactly_once_and_names_no_delete()
    {
        var root = RepositoryRoot();
        var lines = FillSourceFiles()
            .SelectMany(f => File.ReadAllLines(f).Select(line => (File: Path.GetRelativePath(root, f), Line: line)))
            .Where(l => IsListenKeyExemption(l.File, l.Line))
            .ToList();

        Assert.Equal(ListenKeyExemptions.Length, lines.Count);
        Assert.All(lines, l => Assert.DoesNotMatch("Delete|Patch", l.Line));
        Assert.Equal(new HashSet<HttpMethod> { HttpMethod.Post, HttpMethod.Put }, BinanceEndpoints.ListenKeyMethods.ToHashSet());
    }

    [Theory]
    [InlineData("Grinder.Grains/Binance/BinanceEndpoints.cs", "    public static readonly HttpMethod ListenKeyStart = HttpMethod.Delete;")]
    [InlineData("Grinder.Grains/Binance/BinanceEndpoints.cs", "    public static readonly HttpMethod ListenKeyStart = HttpMethod.Post; var x = HttpMethod.Delete;")]
    [InlineData("Grinder.Grains/Binance/BinanceRestClient.cs", "    public static readonly HttpMethod ListenKeyStart = HttpMethod.Post;")]
    [InlineData("Grinder.Grains/Binance/BinanceEndpoints.cs", "    var p = \"/fapi/v1/listenKeys\";")]
    public void The_listen_key_exemption_covers_nothing_but_its_own_lines(string file, string line)
    {
        Assert.NotEmpty(Violations(file, line));
    }

    [Theory]
    [InlineData("    /// <param name=\"cancellationToken\">Cancels the run; the transaction is rolled back.</param>")]
    [InlineData("    // a cancelled tick saves what it read")]
    public void The_scanner_ignores_comment_lines(string line)
    {
        Assert.Empty(Violations("sample.cs", line));
    }

    [Theory]
    [InlineData("public Task<FetchResult> FetchAsync(BinanceCredentials c, FetchRequest r, CancellationToken cancellationToken)")]
    [InlineData("using var request = new HttpRequestMessage(HttpMethod.Get, uri);")]
    [InlineData("public const string UserTrades = \"/fapi/v1/userTrades\";")]
    [InlineData("catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)")]
    public void The_scanner_lets_read_only_code_through(string line)
    {
        Assert.Empty(Violations("sample.cs", line));
    }
}
