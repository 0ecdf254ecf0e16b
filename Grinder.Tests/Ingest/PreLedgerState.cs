using System.Text.Json.Nodes;
using Grinder.FakeBinance;

namespace Grinder.Tests.Ingest;

/// <summary>
/// An account state exactly as the version before the fill ledger wrote it (System.Text.Json, property names as stored):
/// cumulative counters keyed "side|liquidity", fees and rebates per asset, and per symbol a read position with the
/// counted high-water mark and the sides counted at it. No <c>LedgerFormat</c> property: that version did not have one.
/// </summary>
public static class PreLedgerState
{
    public static JsonObject Json(IReadOnlyList<FakeTrade> counted, long markId)
    {
        var fills = new JsonObject();
        foreach (var group in counted.GroupBy(t => $"{t.Side.ToLowerInvariant()}|{(t.Maker ? "maker" : "taker")}"))
        {
            fills[group.Key] = new JsonObject
            {
                ["Count"] = group.Count(),
                ["Notional"] = group.Sum(t => t.Qty * t.Price),
                ["Fees"] = group.Sum(t => Math.Max(0m, t.Commission)),
                ["Rebates"] = group.Sum(t => Math.Max(0m, -t.Commission)),
            };
        }

        var fees = new JsonObject();
        var rebates = new JsonObject();
        foreach (var group in counted.GroupBy(t => t.CommissionAsset))
        {
            if (group.Sum(t => Math.Max(0m, t.Commission)) is > 0 and var fee)
            {
                fees[group.Key] = fee;
            }

            if (group.Sum(t => Math.Max(0m, -t.Commission)) is > 0 and var rebate)
            {
                rebates[group.Key] = rebate;
            }
        }

        var symbols = new JsonObject();
        foreach (var group in counted.GroupBy(t => t.Symbol))
        {
            var atMark = group.Where(t => t.Id == markId).ToList();
            var sides = (atMark.Any(t => t.Side == "BUY") ? 1 : 0) | (atMark.Any(t => t.Side == "SELL") ? 2 : 0);
            var last = group.MaxBy(t => t.Id)!;
            symbols[group.Key] = new JsonObject
            {
                ["LastTradeId"] = last.Id,
                ["LastTsMs"] = last.TimeMs,
                ["BootstrapFromMs"] = null,
                ["ResumeInclusive"] = false,
                ["CountedHighWaterId"] = markId,
                ["CountedSidesAtHighWater"] = sides,
            };
        }

        var now = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();
        return new JsonObject
        {
            ["Symbols"] = symbols,
            ["Fills"] = fills,
            ["Polls"] = 40,
            ["Errors"] = new JsonObject(),
            ["CursorLoads"] = new JsonObject { ["ok"] = 1 },
            ["CursorSaves"] = new JsonObject { ["ok"] = 40 },
            ["UpdatedAtMs"] = now,
            ["LastSaveMs"] = now,
            ["Quarantine"] = new JsonArray(),
            ["QuarantinedTotal"] = 0,
            ["SaveCount"] = 40,
            ["ReconcileRuns"] = 40,
            ["FeesByAsset"] = fees,
            ["RebatesByAsset"] = rebates,
        };
    }
}
