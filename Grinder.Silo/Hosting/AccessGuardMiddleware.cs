using System.Net;
using System.Security.Cryptography;
using System.Text;
using Grinder.Grains.Logging;
using Grinder.Silo.Configuration;
using Microsoft.Extensions.Options;

namespace Grinder.Silo.Hosting;

/// <summary>
/// Protects the dashboard, admin and fill ledger endpoints: open to loopback clients, and to others only with the
/// admin token (<c>Authorization: Bearer TOKEN</c>, or Basic with TOKEN as the password so a browser can log in).
/// Without a configured token, non-loopback clients are refused.
/// </summary>
public sealed partial class AccessGuardMiddleware(RequestDelegate next, IOptions<AdminOptions> options, ILogger<AccessGuardMiddleware> logger)
{
    private static readonly string[] ProtectedPrefixes = ["/dashboard", "/admin", "/fills"];

    public async Task InvokeAsync(HttpContext context)
    {
        if (!IsProtected(context.Request.Path) || IsLoopback(context) || HasToken(context, options.Value.Token))
        {
            await next(context);
            return;
        }

        var tokenSet = !string.IsNullOrEmpty(options.Value.Token);
        LogRefused(logger, context.Request.Path.Value ?? string.Empty, context.Connection.RemoteIpAddress?.ToString() ?? "unknown", tokenSet);
        if (tokenSet)
        {
            context.Response.StatusCode = StatusCodes.Status401Unauthorized;
            context.Response.Headers.WWWAuthenticate = "Basic realm=\"grinder\", Bearer";
            await context.Response.WriteAsync("admin token required\n");
        }
        else
        {
            context.Response.StatusCode = StatusCodes.Status403Forbidden;
            await context.Response.WriteAsync("refused: dashboard, admin and fills are loopback-only unless GRINDER_ADMIN_TOKEN is set\n");
        }
    }

    private static bool IsProtected(PathString path) =>
        ProtectedPrefixes.Any(prefix => path.StartsWithSegments(prefix, StringComparison.OrdinalIgnoreCase));

    private static bool IsLoopback(HttpContext context) =>
        context.Connection.RemoteIpAddress is { } address && IPAddress.IsLoopback(address);

    private static bool HasToken(HttpContext context, string? token)
    {
        if (string.IsNullOrEmpty(token))
        {
            return false;
        }

        var header = context.Request.Headers.Authorization.ToString();
        string? presented = null;
        if (header.StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase))
        {
            presented = header["Bearer ".Length..].Trim();
        }
        else if (header.StartsWith("Basic ", StringComparison.OrdinalIgnoreCase))
        {
            try
            {
                var decoded = Encoding.UTF8.GetString(Convert.FromBase64String(header["Basic ".Length..].Trim()));
                var colon = decoded.IndexOf(':', StringComparison.Ordinal);
                presented = colon >= 0 ? decoded[(colon + 1)..] : null;
            }
            catch (FormatException)
            {
                presented = null;
            }
        }

        return presented is not null
            && CryptographicOperations.FixedTimeEquals(Encoding.UTF8.GetBytes(presented), Encoding.UTF8.GetBytes(token));
    }

    [LoggerMessage(EventId = LogEvents.Http.AdminAccessRefused, EventName = "ADMIN_ACCESS_REFUSED", Level = LogLevel.Warning,
        Message = "Refused {Path} from {Remote} (admin token configured: {TokenConfigured})")]
    private static partial void LogRefused(ILogger logger, string path, string remote, bool tokenConfigured);
}
