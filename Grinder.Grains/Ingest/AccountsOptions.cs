namespace Grinder.Grains.Ingest;

/// <summary>
/// Accounts to watch (README "Configuration"): the default account <c>main</c> from <c>BINANCE_API_KEY</c>/<c>BINANCE_API_SECRET</c>
/// (mapped to <c>Grinder:ApiKey</c>/<c>Grinder:ApiSecret</c>) and <c>Grinder:Symbols</c>, more under <c>Grinder:Accounts</c>.
/// </summary>
public sealed class AccountsOptions
{
    public const string SectionName = "Grinder";

    public string? ApiKey { get; set; }

    public string? ApiSecret { get; set; }

    /// <summary>Comma-separated symbols of the default account.</summary>
    public string Symbols { get; set; } = "BTCUSDT";

    public List<AccountOptions> Accounts { get; set; } = [];

    public override string ToString() => $"AccountsOptions(main key set: {!string.IsNullOrEmpty(ApiKey)}, accounts: {Accounts.Count})";
}

/// <summary>One further account under <c>Grinder:Accounts:N</c>.</summary>
public sealed class AccountOptions
{
    public string? Id { get; set; }

    /// <summary>Comma-separated symbols.</summary>
    public string? Symbols { get; set; }

    public string? ApiKey { get; set; }

    public string? ApiSecret { get; set; }

    /// <summary>A file holding the key (Docker/Kubernetes secrets), instead of <see cref="ApiKey"/>.</summary>
    public string? ApiKeyFile { get; set; }

    /// <summary>A file holding the secret, instead of <see cref="ApiSecret"/>.</summary>
    public string? ApiSecretFile { get; set; }

    /// <summary>Metric label <c>source</c> (<see cref="FillSource"/>): <c>reconcile</c> (default, real money), <c>sim</c> (paper trading) or <c>manual</c>.</summary>
    public string Source { get; set; } = "reconcile";

    public override string ToString() => $"AccountOptions({Id})";
}
