using Grinder.Grains;
using Grinder.Grains.Ingest;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Options;

namespace Grinder.Silo.Http;

/// <summary>
/// Ingest state for <c>/healthz</c>: the switch, and per account and symbol the last poll, last error, cursor, cursor
/// age and quarantined rows (account and symbol detail belongs here, never in metric labels). Account
/// trouble is reported as Degraded (still 200): restarting the silo would not fix an exchange outage or a stored state
/// that needs an operator.
/// </summary>
public sealed class IngestHealthCheck(IGrainFactory grains, IAccountDirectory accounts, IOptions<IngestOptions> options, TimeProvider time) : IHealthCheck
{
    /// <summary>Accounts listed in full; beyond this only the troubled ones are listed (health must stay cheap at 10,000 accounts).</summary>
    public const int DetailLimit = 100;

    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(5);

    public async Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        var enabled = options.Value.Enabled;
        var data = new Dictionary<string, object>
        {
            ["enabled"] = enabled,
            ["poll_interval_s"] = options.Value.PollInterval.TotalSeconds,
            ["account_count"] = accounts.Accounts.Count,
        };
        if (!enabled || accounts.Accounts.Count == 0)
        {
            data["accounts"] = Array.Empty<object>();
            return HealthCheckResult.Healthy(enabled ? "ingest on, no accounts configured" : "ingest off (FILL_INGEST_ENABLED is not 1)", data);
        }

        var now = time.GetUtcNow().ToUnixTimeMilliseconds();
        var reports = await Task.WhenAll(accounts.Accounts.Select(async account =>
        {
            try
            {
                return (account, health: (AccountHealth?)await grains.GetGrain<IFillIngestGrain>(account.GrainKey).GetHealthAsync().WaitAsync(Deadline, cancellationToken), error: (string?)null);
            }
            catch (Exception ex) when (ex is TimeoutException or OrleansException)
            {
                return (account, health: (AccountHealth?)null, error: (string?)$"unreachable: {ex.GetType().Name}");
            }
        }));

        var troubled = reports.Where(report => report.health is null || report.health.LoadError is not null || report.health.LastErrorReason is not null || report.health.LastSaveError is not null).ToList();
        var listed = reports.Length <= DetailLimit ? reports : [.. troubled.Take(DetailLimit)];
        data["accounts"] = listed.Select(report => Describe(report.account, report.health, report.error, now)).ToArray();
        data["troubled_accounts"] = troubled.Count;

        if (troubled.Count == 0)
        {
            return HealthCheckResult.Healthy($"{reports.Length} account(s) polling", data);
        }

        var names = string.Join(", ", troubled.Take(5).Select(report => report.account.Id));
        return HealthCheckResult.Degraded($"{troubled.Count} of {reports.Length} account(s) with errors: {names}", data: data);
    }

    private static Dictionary<string, object?> Describe(ConfiguredAccount account, AccountHealth? health, string? error, long now)
    {
        if (health is null)
        {
            return new() { ["account"] = account.Id, ["source"] = account.Source.Label(), ["error"] = error };
        }

        return new()
        {
            ["account"] = account.Id,
            ["source"] = health.Source,
            ["polling"] = health.Polling,
            ["last_poll_ms"] = health.LastPollMs,
            ["last_error_reason"] = health.LastErrorReason,
            ["load_error"] = health.LoadError,
            ["last_save_error"] = health.LastSaveError,
            ["last_save_ms"] = health.LastSaveMs,
            ["cursor_age_s"] = health.LastSaveMs is { } saved ? Math.Round((now - saved) / 1000.0, 3) : null,
            ["polls"] = health.Polls,
            ["fills_counted"] = health.FillsCounted,
            ["fills_recovered"] = health.FillsRecovered,
            ["stream"] = health.Stream is { } stream
                ? new Dictionary<string, object?>
                {
                    ["state"] = stream.State,
                    ["connected_since_ms"] = stream.ConnectedSinceMs,
                    ["last_event_ms"] = stream.LastEventMs,
                    ["reconnects"] = stream.Reconnects,
                    ["last_error"] = stream.LastError,
                }
                : null,
            // While the stream is healthy REST only reconciles: one round reads every symbol of this silo's streaming accounts.
            ["reconcile_round_s"] = health.ReconcileRoundSeconds,
            ["last_ledger_error"] = health.LastLedgerError,
            ["fees_by_asset"] = health.FeesByAsset,
            ["rebates_by_asset"] = health.RebatesByAsset,
            ["symbols"] = health.Symbols.Select(symbol => new Dictionary<string, object?>
            {
                ["symbol"] = symbol.Symbol,
                ["last_trade_id"] = symbol.LastTradeId,
                ["last_ts_ms"] = symbol.LastTsMs,
                ["read_high_water_id"] = symbol.ReadHighWaterId,
                ["last_rescan_ms"] = symbol.LastRescanMs,
                ["last_rest_read_ms"] = symbol.LastRestReadMs,
                ["bootstrapping"] = symbol.Bootstrapping,
                ["last_poll_ms"] = symbol.LastPollMs,
                ["last_error_reason"] = symbol.LastError,
                ["quarantined_rows"] = symbol.QuarantinedRows,
            }).ToArray(),
            ["quarantine"] = health.Quarantine.Select(row => new Dictionary<string, object?>
            {
                ["symbol"] = row.Symbol,
                ["trade_id"] = row.TradeId,
                ["reason"] = row.Reason,
                ["raw"] = row.Raw,
                ["seen_at_ms"] = row.SeenAtMs,
            }).ToArray(),
        };
    }
}
