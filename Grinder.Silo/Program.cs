using Grinder.Silo.Hosting;
using Microsoft.Extensions.Options;

try
{
    var builder = WebApplication.CreateBuilder(args);
    builder.AddGrinderConfiguration();
    builder.AddGrinderDemoExchange();
    builder.AddGrinderOrleans();
    builder.AddGrinderHttp();

    var app = builder.Build();
    app.MapGrinderEndpoints();
    await app.RunAsync();
    return 0;
}
catch (OptionsValidationException error)
{
    return GrinderHostingExtensions.ReportInvalidConfiguration(error);
}
