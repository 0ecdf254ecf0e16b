var builder = WebApplication.CreateBuilder(args);
var app = builder.Build();
app.MapGet("/fapi/v1/ping", () => Results.Json(new { }));
app.Run();
