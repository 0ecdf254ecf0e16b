using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;

namespace Grinder.Grains.Binance;

/// <summary>DI registration of the read-only Binance client.</summary>
public static class BinanceServiceCollectionExtensions
{
    /// <summary>
    /// Registers <see cref="BinanceOptions"/> (section <c>Grinder:Binance</c>, validated on start), the typed
    /// <see cref="BinanceRestClient"/> (GET-only guard, no redirects), one <see cref="BinanceWeightGovernor"/> and one
    /// <see cref="BinanceServerClock"/> per silo, <see cref="TimeProvider.System"/> unless one is registered,
    /// <see cref="IUserTradesFetcher"/>, and the user data stream's <see cref="Stream.ListenKeyClient"/> and
    /// <see cref="Stream.UserDataStreamConnectionFactory"/> (settings <see cref="Stream.UserDataStreamOptions.SectionName"/>).
    /// </summary>
    public static IServiceCollection AddGrinderBinanceClient(this IServiceCollection services)
    {
        ArgumentNullException.ThrowIfNull(services);

        services.AddOptions<BinanceOptions>().BindConfiguration(BinanceOptions.SectionName).ValidateOnStart()
            .PostConfigure(BinanceOptions.DeriveLocalStreamUrl);
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<BinanceOptions>, BinanceOptionsValidator>());

        services.TryAddSingleton(TimeProvider.System);
        services.TryAddSingleton<BinanceWeightGovernor>();
        services.TryAddSingleton<BinanceServerClock>();
        services.TryAddTransient<ReadOnlyGuardHandler>();

        services.AddHttpClient<BinanceRestClient>()
            .ConfigurePrimaryHttpMessageHandler(() => new SocketsHttpHandler
            {
                // A redirect would carry X-MBX-APIKEY to wherever it points: treat 3xx as an error instead.
                AllowAutoRedirect = false,
                PooledConnectionLifetime = TimeSpan.FromMinutes(5),
                AutomaticDecompression = System.Net.DecompressionMethods.All,
            })
            .AddHttpMessageHandler<ReadOnlyGuardHandler>()

            // The factory's request logging would print the URL, whose query carries the signature; the client logs
            // its own failures (BINANCE_REQUEST_FAILED) with the path only.
            .RemoveAllLoggers();

        // Transient like the typed client it wraps, so handler rotation by IHttpClientFactory keeps working.
        services.TryAddTransient<IUserTradesFetcher, UserTradesFetcher>();

        // The user data stream: listenKey POST/PUT through the same guarded client, one connection per account.
        services.AddOptions<Stream.UserDataStreamOptions>().BindConfiguration(Stream.UserDataStreamOptions.SectionName).ValidateOnStart();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<Stream.UserDataStreamOptions>, Stream.UserDataStreamOptionsValidator>());
        services.TryAddTransient<Stream.ListenKeyClient>();
        services.TryAddTransient<Stream.UserDataStreamConnectionFactory>();
        return services;
    }
}
