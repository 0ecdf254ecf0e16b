namespace Grinder.Grains.Binance;

/// <summary>API key and secret of one account. Lives only in silo configuration and memory: never in grain state, logs, metrics or health output.</summary>
public sealed class BinanceCredentials(string apiKey, string apiSecret)
{
    public string ApiKey { get; } = apiKey;

    public string ApiSecret { get; } = apiSecret;

    /// <summary>True when both parts are present, i.e. signed requests can be made.</summary>
    public bool IsComplete => !string.IsNullOrEmpty(ApiKey) && !string.IsNullOrEmpty(ApiSecret);

    // A stray interpolation or exception message must never carry the secret.
    public override string ToString() => "BinanceCredentials(***)";
}
