namespace Grinder.FakeBinance;

/// <summary>Log events of the fake exchange. Never a secret, signature or signed query.</summary>
internal static partial class Log
{
    [LoggerMessage(EventId = 1, EventName = "FAKE_EXCHANGE_LISTENING", Level = LogLevel.Information, Message = "Fake Binance exchange listening on {Url}")]
    public static partial void Listening(ILogger logger, Uri url);

    [LoggerMessage(EventId = 2, EventName = "FAKE_EXCHANGE_WRITE_ATTEMPT", Level = LogLevel.Warning, Message = "Refused write attempt {Method} {Path} (the fake exchange is read-only)")]
    public static partial void WriteAttempt(ILogger logger, string method, string path);

    [LoggerMessage(EventId = 3, EventName = "FAKE_EXCHANGE_IP_BANNED", Level = LogLevel.Warning, Message = "IP {ClientIp} kept sending after 429 and is banned for {RetryAfterSeconds} s (418)")]
    public static partial void Banned(ILogger logger, string clientIp, int retryAfterSeconds);

    [LoggerMessage(EventId = 4, EventName = "FAKE_EXCHANGE_GENERATOR_STARTED", Level = LogLevel.Information, Message = "Generating {CountPerTick} fill(s) per symbol every {Interval} for account {AccountHint} on {Symbols}")]
    public static partial void GeneratorStarted(ILogger logger, int countPerTick, TimeSpan interval, string accountHint, string symbols);

    [LoggerMessage(EventId = 5, EventName = "FAKE_EXCHANGE_GENERATOR_FAILED", Level = LogLevel.Error, Message = "Fill generator tick failed for account {AccountHint}")]
    public static partial void GeneratorFailed(ILogger logger, Exception exception, string accountHint);

    [LoggerMessage(EventId = 6, EventName = "FAKE_EXCHANGE_FAULT", Level = LogLevel.Information, Message = "Injected fault {Kind} into {Path}")]
    public static partial void FaultInjected(ILogger logger, FakeFaultKind kind, string path);

    /// <summary>The first characters of an API key: enough to tell accounts apart in a log.</summary>
    public static string Hint(string apiKey) => apiKey.Length <= 4 ? "****" : apiKey[..4] + "…";
}
