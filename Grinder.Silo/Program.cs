using Grinder.Silo.Hosting;
using Microsoft.Extensions.Options;

try
{
    var builder = WebApplication.CreateBuilder(args);
    builder.AddGrinder();

    var app = builder.Build();
    app.MapGrinderEndpoints();
    await app.RunAsync();
    return 0;
}
catch (OptionsValidationException error)
{
    return GrinderHostingExtensions.ReportInvalidConfiguration(error);
}
catch (InvalidOperationException error) when (GrinderHostingExtensions.IsConfigurationBindingError(error))
{
    return GrinderHostingExtensions.ReportInvalidConfiguration(error);
}
