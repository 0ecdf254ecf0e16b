using Grinder.Grains.Binance;

namespace Grinder.Grains.Ingest;

/// <summary>One account to watch, resolved from configuration. Credentials stay here, in silo memory.</summary>
public sealed record ConfiguredAccount(string Id, FillSource Source, IReadOnlyList<string> Symbols, BinanceCredentials Credentials)
{
    /// <summary>Grain key: a prefix keeps it from looking like hex, which the ADO.NET provider would store as an integer key.</summary>
    public string GrainKey => GrainKeyFor(Id);

    public static string GrainKeyFor(string accountId) => "acct-" + accountId;

    public static string AccountIdFromGrainKey(string grainKey) =>
        grainKey.StartsWith("acct-", StringComparison.Ordinal) ? grainKey["acct-".Length..] : grainKey;

    public override string ToString() => $"ConfiguredAccount({Id}, {Source.Label()}, [{string.Join(',', Symbols)}])";
}

/// <summary>The accounts this cluster watches.</summary>
public interface IAccountDirectory
{
    IReadOnlyList<ConfiguredAccount> Accounts { get; }

    /// <summary>The account with <paramref name="id"/>, or null if it is not (or no longer) configured.</summary>
    ConfiguredAccount? Find(string id);
}
