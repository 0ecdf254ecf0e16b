using Grinder.Grains.Ingest;
using Grinder.Silo.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.Options;

namespace Grinder.Tests.Infrastructure;

/// <summary>
/// A real Grinder silo (the same composition as Program.cs) running in the test process on free loopback ports,
/// reached over real HTTP.
/// </summary>
public sealed class InProcessSilo : IAsyncDisposable
{
    private readonly WebApplication _app;

    private InProcessSilo(WebApplication app, Uri baseUrl)
    {
        _app = app;
        BaseUrl = baseUrl;
        Http = new HttpClient { BaseAddress = baseUrl, Timeout = TimeSpan.FromSeconds(30) };
    }

    public Uri BaseUrl { get; }

    public HttpClient Http { get; }

    public IServiceProvider Services => _app.Services;

    public IGrainFactory Grains => _app.Services.GetRequiredService<IGrainFactory>();

    /// <summary>Scrapes <c>/metrics</c> over HTTP and checks the label contract (see <see cref="MetricsScrape"/>).</summary>
    public Task<IReadOnlyList<MetricSample>> ScrapeAsync(params string[] mustNotContain) => MetricsScrape.ScrapeAsync(Http, mustNotContain);

    /// <summary>
    /// Waits until two ticks of a grain timer at this silo's poll interval, started now on this silo, have fired. An account
    /// grain activated before would have polled by then if its timer ran (its first tick is due within one interval of its
    /// activation), and the keeper would have pinged (set its interval no longer than the poll interval).
    /// </summary>
    public async Task PassPollIntervalAsync()
    {
        var interval = Services.GetRequiredService<IOptions<IngestOptions>>().Value.PollInterval;
        var probe = Grains.GetGrain<ITickProbeGrain>(Guid.NewGuid().ToString("N"));
        await probe.StartAsync(interval);
        await Eventually.TrueAsync(async () => await probe.GetTicksAsync() >= 2, (interval * 2) + TimeSpan.FromSeconds(30), "two ticks of a grain timer at the poll interval");
    }

    /// <summary>Starts a silo with <paramref name="settings"/> layered over the defaults (flat names like <c>FILL_INGEST_ENABLED</c> work).</summary>
    public static async Task<InProcessSilo> StartAsync(IDictionary<string, string?> settings, params string[] args)
    {
        var builder = WebApplication.CreateBuilder(new WebApplicationOptions
        {
            Args = args,
            EnvironmentName = "Production",
            ContentRootPath = AppContext.BaseDirectory,
        });
        var layered = new Dictionary<string, string?>(StringComparer.OrdinalIgnoreCase)
        {
            ["urls"] = "http://127.0.0.1:0",
            ["FILL_INGEST_ENABLED"] = "0",
            ["Grinder:Orleans:SiloPort"] = FreePorts.Next().ToString(System.Globalization.CultureInfo.InvariantCulture),
            ["Grinder:Orleans:GatewayPort"] = FreePorts.Next().ToString(System.Globalization.CultureInfo.InvariantCulture),
            ["Logging:LogLevel:Default"] = "Warning",
        };
        foreach (var (key, value) in settings)
        {
            layered[key] = value;
        }

        builder.Configuration.AddInMemoryCollection(layered);
        builder.AddGrinder();
        var app = builder.Build();
        app.MapGrinderEndpoints();
        try
        {
            await app.StartAsync();
        }
        catch
        {
            // A silo that fails to start (the test may expect that) must not keep its ports and threads.
            await app.DisposeAsync();
            throw;
        }

        var address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        return new InProcessSilo(app, new Uri(address.TrimEnd('/') + "/"));
    }

    public async Task StopAsync()
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        await _app.StopAsync(timeout.Token);
    }

    public async ValueTask DisposeAsync()
    {
        Http.Dispose();
        try
        {
            await StopAsync();
        }
        finally
        {
            await _app.DisposeAsync();
        }
    }
}
