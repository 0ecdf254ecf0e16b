using Grinder.Grains;
using Grinder.Grains.Ingest;

namespace Grinder.Silo.Http;

/// <summary>
/// Operator actions under <c>/admin</c> (behind <see cref="Hosting.AccessGuardMiddleware"/>). They act on this
/// service's own state only; nothing here talks to an exchange's order endpoints.
/// </summary>
public static class AdminEndpoints
{
    public static IEndpointRouteBuilder MapGrinderAdmin(this IEndpointRouteBuilder endpoints)
    {
        var admin = endpoints.MapGroup("/admin");

        // GET /admin/cursor?account=main : the runbook's "cat the cursor", for either storage mode.
        admin.MapGet("/cursor", async (string? account, IGrainFactory grains, IAccountDirectory accounts) =>
        {
            if (Resolve(account, accounts) is not { } target)
            {
                return UnknownAccount(account, accounts);
            }

            var health = await grains.GetGrain<IFillIngestGrain>(target.GrainKey).GetHealthAsync();
            return Results.Json(health);
        });

        // POST /admin/cursor/reset?account=main[&symbol=BTCUSDT][&from=2026-11-01T00:00:00Z] : the runbook's
        // "delete the cursor and restart". Trades are re-read; the counted high-water mark keeps them from counting twice.
        admin.MapPost("/cursor/reset", async (string? account, string? symbol, DateTimeOffset? from, IGrainFactory grains, IAccountDirectory accounts) =>
        {
            if (Resolve(account, accounts) is not { } target)
            {
                return UnknownAccount(account, accounts);
            }

            try
            {
                await grains.GetGrain<IFillIngestGrain>(target.GrainKey).ResetCursorAsync(symbol, from);
            }
            catch (Exception ex) when (ex is ArgumentException or InvalidOperationException)
            {
                return Results.Problem(ex.Message, statusCode: StatusCodes.Status409Conflict);
            }

            var health = await grains.GetGrain<IFillIngestGrain>(target.GrainKey).GetHealthAsync();
            return Results.Json(new { reset = true, account = target.Id, symbol = symbol ?? "all", cursor = health.Symbols });
        });

        // POST /admin/poll?account=main : one poll now, without waiting for the timer.
        admin.MapPost("/poll", async (string? account, IGrainFactory grains, IAccountDirectory accounts) =>
        {
            if (Resolve(account, accounts) is not { } target)
            {
                return UnknownAccount(account, accounts);
            }

            await grains.GetGrain<IFillIngestGrain>(target.GrainKey).PollNowAsync();
            return Results.Json(await grains.GetGrain<IFillIngestGrain>(target.GrainKey).GetHealthAsync());
        });

        return endpoints;
    }

    private static ConfiguredAccount? Resolve(string? account, IAccountDirectory accounts) =>
        account is null && accounts.Accounts.Count == 1 ? accounts.Accounts[0] : account is null ? null : accounts.Find(account);

    private static IResult UnknownAccount(string? account, IAccountDirectory accounts) =>
        Results.Problem(
            $"unknown account '{account}'; configured: {string.Join(", ", accounts.Accounts.Select(a => a.Id))}",
            statusCode: StatusCodes.Status404NotFound);
}
