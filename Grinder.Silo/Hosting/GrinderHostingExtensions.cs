using System.Net;
using System.Net.Sockets;
using Grinder.Grains;
using Grinder.Grains.Ingest;
using Grinder.Silo.Configuration;
using Grinder.Silo.Http;
using Grinder.Silo.Metrics;
using Microsoft.AspNetCore.Diagnostics.HealthChecks;
using Microsoft.AspNetCore.Hosting;
using Microsoft.Extensions.Options;
using Orleans.Configuration;
using Orleans.Dashboard;
using Prometheus;

namespace Grinder.Silo.Hosting;

/// <summary>The composition steps <c>Program.cs</c> calls, one per concern.</summary>
public static class GrinderHostingExtensions
{
    /// <summary>Default HTTP address (README "Configuration") when neither <c>ASPNETCORE_URLS</c> nor <c>--urls</c> is given.</summary>
    public const string DefaultUrl = "http://127.0.0.1:9090";

    /// <summary>The whole silo: configuration, the local demo seam, Orleans and HTTP, in the order they depend on each other.</summary>
    public static WebApplicationBuilder AddGrinder(this WebApplicationBuilder builder) =>
        builder.AddGrinderConfiguration().AddGrinderDemoExchange().AddGrinderOrleans().AddGrinderHttp();

    /// <summary>Maps the flat setting names onto option sections and registers validated options.</summary>
    public static WebApplicationBuilder AddGrinderConfiguration(this WebApplicationBuilder builder)
    {
        builder.Configuration.AddInMemoryCollection(ConfigurationAliases.Resolve(builder.Configuration));
        ThrowIfInvalid<AccountsOptions>(ConfigurationAliases.UnknownAccountSettings(builder.Configuration));

        builder.Services.AddOptions<StorageOptions>().BindConfiguration(StorageOptions.SectionName).ValidateOnStart();
        builder.Services.AddOptions<AdminOptions>().BindConfiguration(AdminOptions.SectionName);
        builder.Services.AddOptions<OrleansHostOptions>().BindConfiguration(OrleansHostOptions.SectionName)
            .ValidateOnStart();
        builder.Services.AddSingleton<IValidateOptions<OrleansHostOptions>>(new DelegateValidator<OrleansHostOptions>(OrleansHostOptions.Validate));
        builder.Services.AddSingleton<IValidateOptions<RunOptions>>(new DelegateValidator<RunOptions>(RunOptions.Validate));
        builder.Services.AddOptions<RunOptions>().BindConfiguration(RunOptions.SectionName).ValidateOnStart();
        builder.Services.AddGrinderIngest();
        return builder;
    }

    /// <summary>The Orleans silo in local or PostgreSQL mode, with the dashboard.</summary>
    public static WebApplicationBuilder AddGrinderOrleans(this WebApplicationBuilder builder)
    {
        // Composition-time reads: the storage mode and ports decide which providers are registered at all.
        var storage = builder.Configuration.GetSection(StorageOptions.SectionName).Get<StorageOptions>() ?? new StorageOptions();
        var ports = builder.Configuration.GetSection(OrleansHostOptions.SectionName).Get<OrleansHostOptions>() ?? new OrleansHostOptions();
        ThrowIfInvalid<OrleansHostOptions>(OrleansHostOptions.Validate(ports));

        builder.UseOrleans(silo =>
        {
            if (storage.UsePostgres)
            {
                silo.UseGrinderPostgres(storage.Postgres!);
                if (ports.AdvertisedAddress == "auto")
                {
                    silo.ConfigureEndpoints(ports.SiloPort, ports.GatewayPort, AddressFamily.InterNetwork, listenOnAnyHostAddress: true);
                }
                else
                {
                    silo.ConfigureEndpoints(IPAddress.Parse(ports.AdvertisedAddress), ports.SiloPort, ports.GatewayPort, listenOnAnyHostAddress: true);
                }
            }
            else
            {
                silo.UseGrinderLocal(storage.DataDirectory, ports.SiloPort, ports.GatewayPort);
            }

            silo.Configure<ClusterOptions>(options =>
            {
                options.ClusterId = ports.ClusterId;
                options.ServiceId = ports.ServiceId;
            });
            silo.UseSystemTextJsonGrainStorageSerializer();
            silo.AddDashboard();
        });
        return builder;
    }

    /// <summary>HTTP address, health checks, metrics exporter and run-time switches.</summary>
    public static WebApplicationBuilder AddGrinderHttp(this WebApplicationBuilder builder)
    {
        if (string.IsNullOrEmpty(builder.Configuration[WebHostDefaults.ServerUrlsKey]) && string.IsNullOrEmpty(builder.Configuration["HTTP_PORTS"]))
        {
            builder.WebHost.UseUrls(DefaultUrl);
        }

        builder.Services.AddHealthChecks()
            .AddCheck<StorageHealthCheck>("storage")
            .AddCheck<ClusterHealthCheck>("cluster")
            .AddCheck<IngestHealthCheck>("ingest");
        builder.Services.AddSingleton<FillMetricsExporter>();
        builder.Services.AddSingleton<IMetricsTextSource>(services => services.GetRequiredService<FillMetricsExporter>());
        builder.Services.AddHostedService<RunLifetimeService>();
        return builder;
    }

    /// <summary><c>/metrics</c>, <c>/healthz</c>, <c>/dashboard</c>, <c>/admin</c>, <c>/fills</c>; all but the first two behind the access guard.</summary>
    public static WebApplication MapGrinderEndpoints(this WebApplication app)
    {
        app.UseMiddleware<AccessGuardMiddleware>();
        app.MapGet("/metrics", async (HttpContext context, FillMetricsExporter exporter) =>
        {
            // Prometheus negotiates OpenMetrics; a plain curl (no Accept header) gets text format 0.0.4.
            var openMetrics = context.Request.Headers.Accept.ToString().Contains("application/openmetrics-text", StringComparison.OrdinalIgnoreCase);
            context.Response.ContentType = openMetrics
                ? "application/openmetrics-text; version=1.0.0; charset=utf-8"
                : "text/plain; version=0.0.4; charset=utf-8";
            await exporter.ExportAsync(context.Response.Body, openMetrics ? ExpositionFormat.OpenMetricsText : ExpositionFormat.PrometheusText, context.RequestAborted);
        });
        app.MapHealthChecks("/healthz", new HealthCheckOptions { ResponseWriter = HealthResponseWriter.WriteAsync });
        app.MapOrleansDashboard("/dashboard");
        app.MapGrinderAdmin();
        app.MapGrinderFills();
        return app;
    }

    /// <summary>Prints the one start-up line for invalid configuration (README "Configuration") and returns exit code 2.</summary>
    public static int ReportInvalidConfiguration(OptionsValidationException error)
    {
        Console.Error.WriteLine($"Invalid configuration: {string.Join("; ", error.Failures)}");
        return 2;
    }

    /// <summary>A value the configuration binder could not convert (e.g. <c>PollInterval=5s</c>); its message names the setting.</summary>
    public static bool IsConfigurationBindingError(InvalidOperationException error) =>
        error.Message.StartsWith("Failed to convert configuration value", StringComparison.Ordinal);

    /// <summary>Prints the one start-up line for a value that does not parse and returns exit code 2.</summary>
    public static int ReportInvalidConfiguration(InvalidOperationException error)
    {
        Console.Error.WriteLine($"Invalid configuration: {error.Message}");
        return 2;
    }

    // Settings read at composition time are validated there too, before Orleans would fail on them less clearly.
    private static void ThrowIfInvalid<T>(IEnumerable<string> failures)
    {
        var list = failures.ToList();
        if (list.Count > 0)
        {
            throw new OptionsValidationException(typeof(T).Name, typeof(T), list);
        }
    }
}
