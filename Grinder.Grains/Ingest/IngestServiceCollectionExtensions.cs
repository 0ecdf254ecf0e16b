using Grinder.Grains.Binance;
using Grinder.Grains.Metrics;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;

namespace Grinder.Grains.Ingest;

/// <summary>Registers accounts, ingest and metrics options and the per-silo keeper.</summary>
public static class IngestServiceCollectionExtensions
{
    public static IServiceCollection AddGrinderIngest(this IServiceCollection services)
    {
        services.AddOptions<IngestOptions>().BindConfiguration(IngestOptions.SectionName).ValidateOnStart();
        services.AddSingleton<IValidateOptions<IngestOptions>>(new DelegateValidator<IngestOptions>(IngestOptions.Validate));
        services.AddOptions<MetricsOptions>().BindConfiguration(MetricsOptions.SectionName).ValidateOnStart();
        services.AddSingleton<IValidateOptions<MetricsOptions>>(new DelegateValidator<MetricsOptions>(MetricsOptions.Validate));
        services.AddOptions<StreamOptions>().BindConfiguration(StreamOptions.SectionName).ValidateOnStart();
        services.AddSingleton<IValidateOptions<StreamOptions>>(new DelegateValidator<StreamOptions>(StreamOptions.Validate));
        services.TryAddSingleton<ReconcileSchedule>();
        services.AddOptions<AccountsOptions>().BindConfiguration(AccountsOptions.SectionName);
        services.AddSingleton<IAccountDirectory, AccountDirectory>();
        services.AddHostedService<AccountKeeper>();
        services.AddGrinderBinanceClient();
        services.TryAddSingleton(TimeProvider.System);
        return services;
    }
}
