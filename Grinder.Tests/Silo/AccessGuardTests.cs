using System.Net;
using System.Text;
using Grinder.Silo.Configuration;
using Grinder.Silo.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;

namespace Grinder.Tests.Silo;

/// <summary>Dashboard and admin: open on loopback, token-protected or refused elsewhere (README "HTTP endpoints").</summary>
public sealed class AccessGuardTests
{
    [Theory]
    [InlineData("127.0.0.1", null, null, 200)]
    [InlineData("::1", null, null, 200)]
    [InlineData("10.1.2.3", null, null, 403)]
    [InlineData("10.1.2.3", "s3cret-token", null, 401)]
    [InlineData("10.1.2.3", "s3cret-token", "Bearer wrong", 401)]
    [InlineData("10.1.2.3", "s3cret-token", "Bearer s3cret-token", 200)]
    [InlineData("10.1.2.3", "s3cret-token", "BASIC-ops:s3cret-token", 200)]
    [InlineData("10.1.2.3", "s3cret-token", "BASIC-ops:nope", 401)]
    public async Task Dashboard_access_depends_on_client_address_and_token(string remote, string? token, string? authorization, int expected)
    {
        var (status, reachedEndpoint) = await InvokeAsync("/dashboard/", remote, token, authorization);
        Assert.Equal(expected, status);
        Assert.Equal(expected == 200, reachedEndpoint);
    }

    [Fact]
    public async Task Admin_is_guarded_like_the_dashboard_and_metrics_are_not()
    {
        Assert.Equal(403, (await InvokeAsync("/admin/cursor/reset", "192.168.1.9", null, null)).Status);
        Assert.Equal(200, (await InvokeAsync("/metrics", "192.168.1.9", null, null)).Status);
        Assert.Equal(200, (await InvokeAsync("/healthz", "192.168.1.9", null, null)).Status);
    }

    private static async Task<(int Status, bool ReachedEndpoint)> InvokeAsync(string path, string remote, string? token, string? authorization)
    {
        var reached = false;
        var middleware = new AccessGuardMiddleware(
            context =>
            {
                reached = true;
                context.Response.StatusCode = 200;
                return Task.CompletedTask;
            },
            Options.Create(new AdminOptions { Token = token }),
            NullLogger<AccessGuardMiddleware>.Instance);
        var context = new DefaultHttpContext();
        context.Request.Path = path;
        context.Connection.RemoteIpAddress = IPAddress.Parse(remote);
        context.Response.Body = new MemoryStream();
        if (authorization is not null)
        {
            context.Request.Headers.Authorization = authorization.StartsWith("BASIC-", StringComparison.Ordinal)
                ? "Basic " + Convert.ToBase64String(Encoding.UTF8.GetBytes(authorization["BASIC-".Length..]))
                : authorization;
        }

        await middleware.InvokeAsync(context);
        return (context.Response.StatusCode, reached);
    }
}
