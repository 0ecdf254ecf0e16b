using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Grinder.Grains.Binance.Stream;

/// <summary>Creates one <see cref="UserDataStreamConnection"/> per account with the silo's settings (registered by
/// <see cref="BinanceServiceCollectionExtensions.AddGrinderBinanceClient"/>; transient like the REST client it uses).</summary>
public sealed class UserDataStreamConnectionFactory(
    ListenKeyClient keys,
    IOptions<BinanceOptions> binance,
    IOptions<UserDataStreamOptions> options,
    TimeProvider time,
    ILoggerFactory loggers)
{
    /// <summary>A stopped connection for the account; call <see cref="UserDataStreamConnection.Start"/>, read its events, dispose it.</summary>
    public UserDataStreamConnection Create(string account, BinanceCredentials credentials) =>
        new(keys, credentials, account, binance.Value.StreamUrl, options.Value, time, loggers.CreateLogger<UserDataStreamConnection>());
}
