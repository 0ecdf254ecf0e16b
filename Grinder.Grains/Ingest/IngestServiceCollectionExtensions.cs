using Microsoft.Extensions.DependencyInjection;
using Grinder.Grains.Binance;
using Microsoft.Extensions.Options;

namespace Grinder.Grains.Ingest;

/// <summary>Registers accounts, ingest options and the per-silo keeper.</summary>
public static class IngestServiceCollectionExtensions
{
    public static IServiceCollection AddGrinderIngest(this IServiceCollection services)
    {
        services.AddOptions<IngestOptions>().BindConfiguration(IngestOptions.SectionName).ValidateDataAnnotations().ValidateOnStart();
        services.AddSingleton<IValidateOptions<IngestOptions>>(new IngestOptionsValidator());
        services.AddOptions<AccountsOptions>().BindConfiguration(AccountsOptions.SectionName);
        services.AddSingleton<IAccountDirectory, AccountDirectory>();
        services.AddHostedService<AccountKeeper>();
        services.AddGrinderBinanceClient();
        services.AddSingleton(TimeProvider.System);
        return services;
    }

    private sealed class IngestOptionsValidator : IValidateOptions<IngestOptions>
    {
        public ValidateOptionsResult Validate(string? name, IngestOptions options)
        {
            var failures = IngestOptions.Validate(options).ToArray();
            return failures.Length == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
        }
    }
}
