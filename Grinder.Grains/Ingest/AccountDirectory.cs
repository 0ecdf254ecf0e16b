using System.Text.RegularExpressions;
using Grinder.Grains.Binance;
using Microsoft.Extensions.Options;

namespace Grinder.Grains.Ingest;

/// <summary>Resolves <see cref="AccountsOptions"/> into accounts once, reading secret files at start.</summary>
public sealed partial class AccountDirectory : IAccountDirectory
{
    private readonly Dictionary<string, ConfiguredAccount> _byId;

    public AccountDirectory(IOptions<AccountsOptions> options)
    {
        var (accounts, failures) = Resolve(options.Value);
        if (failures.Count > 0)
        {
            throw new OptionsValidationException(nameof(AccountsOptions), typeof(AccountsOptions), failures);
        }

        Accounts = accounts;
        _byId = accounts.ToDictionary(account => account.Id, StringComparer.Ordinal);
    }

    public IReadOnlyList<ConfiguredAccount> Accounts { get; }

    public ConfiguredAccount? Find(string id) => _byId.GetValueOrDefault(id);

    /// <summary>Turns options into accounts, collecting one message per broken setting (never echoing a secret).</summary>
    public static (List<ConfiguredAccount> Accounts, List<string> Failures) Resolve(AccountsOptions options)
    {
        var accounts = new List<ConfiguredAccount>();
        var failures = new List<string>();

        if (!string.IsNullOrEmpty(options.ApiKey) || !string.IsNullOrEmpty(options.ApiSecret))
        {
            if (string.IsNullOrEmpty(options.ApiKey) || string.IsNullOrEmpty(options.ApiSecret))
            {
                failures.Add("BINANCE_API_KEY and BINANCE_API_SECRET must be set together");
            }

            var symbols = ParseSymbols(options.Symbols, "Grinder:Symbols", failures);
            accounts.Add(new ConfiguredAccount("main", FillSource.Reconcile, symbols, new BinanceCredentials(options.ApiKey ?? string.Empty, options.ApiSecret ?? string.Empty)));
        }

        for (var index = 0; index < options.Accounts.Count; index++)
        {
            var account = options.Accounts[index];
            var prefix = $"Grinder:Accounts:{index}";
            if (string.IsNullOrWhiteSpace(account.Id) || !AccountIdPattern().IsMatch(account.Id))
            {
                failures.Add($"{prefix}:Id must be 1-40 characters of letters, digits, '-' or '_'");
                continue;
            }

            if (accounts.Any(existing => existing.Id == account.Id))
            {
                failures.Add($"{prefix}:Id '{account.Id}' is used twice");
                continue;
            }

            if (!MetricLabels.TryParseSource(account.Source, out var source))
            {
                failures.Add($"{prefix}:Source must be reconcile, sim or manual");
            }

            var key = ReadSecret(account.ApiKey, account.ApiKeyFile, $"{prefix}:ApiKey", failures);
            var secret = ReadSecret(account.ApiSecret, account.ApiSecretFile, $"{prefix}:ApiSecret", failures);
            if (string.IsNullOrEmpty(key) != string.IsNullOrEmpty(secret))
            {
                failures.Add($"{prefix}: ApiKey and ApiSecret must be set together (a secret with no key, or a key with no secret)");
            }
            else if (string.IsNullOrEmpty(key))
            {
                failures.Add($"{prefix}: ApiKey/ApiSecret (or ApiKeyFile/ApiSecretFile) are required");
            }

            var symbols = ParseSymbols(account.Symbols ?? options.Symbols, $"{prefix}:Symbols", failures);
            accounts.Add(new ConfiguredAccount(account.Id, source, symbols, new BinanceCredentials(key ?? string.Empty, secret ?? string.Empty)));
        }

        return (accounts, failures);
    }

    private static List<string> ParseSymbols(string? text, string setting, List<string> failures)
    {
        var symbols = (text ?? string.Empty)
            .Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
            .Select(symbol => symbol.ToUpperInvariant())
            .Distinct(StringComparer.Ordinal)
            .ToList();
        if (symbols.Count == 0)
        {
            failures.Add($"{setting} must list at least one symbol (e.g. BTCUSDT,ETHUSDT)");
        }
        else if (symbols.FirstOrDefault(symbol => !SymbolPattern().IsMatch(symbol)) is { } bad)
        {
            failures.Add($"{setting} has an invalid symbol '{bad}'");
        }

        return symbols;
    }

    private static string? ReadSecret(string? value, string? file, string setting, List<string> failures)
    {
        if (!string.IsNullOrEmpty(value) && !string.IsNullOrEmpty(file))
        {
            failures.Add($"{setting}: set either the value or the File variant, not both");
            return value;
        }

        if (string.IsNullOrEmpty(file))
        {
            return value;
        }

        try
        {
            return File.ReadAllText(file).Trim();
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            failures.Add($"{setting}File: cannot read '{file}' ({ex.GetType().Name})");
            return null;
        }
    }

    [GeneratedRegex("^[A-Za-z0-9_-]{1,40}$")]
    private static partial Regex AccountIdPattern();

    [GeneratedRegex("^[A-Z0-9]{2,30}$")]
    private static partial Regex SymbolPattern();
}
