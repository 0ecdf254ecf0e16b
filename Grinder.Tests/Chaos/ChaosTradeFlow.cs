using System.Globalization;
using Grinder.FakeBinance;
using Grinder.Tests.Binance;

namespace Grinder.Tests.Chaos;

/// <summary>An invalid row served by the fake exchange: it must be quarantined under its id and never counted.</summary>
public sealed record InjectedInvalidRow(string AccountId, string Symbol, long Id, string Defect);

/// <summary>
/// Fills arriving while the cluster is disrupted: small batches executed now (an account past its bootstrap window
/// never sees backdated rows, like on Binance), some of them self-trade pairs, and every
/// <see cref="ChaosPlan.InvalidRowEvery"/>-th batch an invalid row with the symbol's next id. Only this class appends
/// rows, so it knows each symbol's last id.
/// </summary>
public sealed class ChaosTradeFlow(FakeExchange exchange, IReadOnlyList<ChaosAccount> accounts, ChaosPlan plan)
{
    private const double SelfTradePairFraction = 0.1;

    // Defects from the row catalogue that keep the id readable, so the cursor moves past the row.
    private static readonly (string Defect, (string Name, string Value)[] Replace)[] Defects =
    [
        ("price NaN", [("price", "\"NaN\"")]),
        ("qty negative", [("qty", "\"-0.002\"")]),
        ("commission text", [("commission", "\"abc\"")]),
        ("side lowercase", [("side", "\"sell\"")]),
        ("maker null", [("maker", "null")]),
    ];

    private readonly Dictionary<(string Key, string Symbol), long> _lastIds = [];
    private readonly List<InjectedInvalidRow> _invalidRows = [];
    private readonly Random _random = new(plan.Seed);
    private readonly CancellationTokenSource _stop = new();
    private Task? _running;
    private int _batches;

    public IReadOnlyList<InjectedInvalidRow> InvalidRows => _invalidRows;

    public int Batches => _batches;

    /// <summary>Some history per (account, symbol) before the cluster starts: the first polls bootstrap by time window.</summary>
    public void AddHistory(int tradesPerSymbol)
    {
        foreach (var account in accounts)
        {
            foreach (var symbol in plan.Symbols)
            {
                Generate(account, symbol, tradesPerSymbol);
            }
        }
    }

    public void Start() => _running = Task.Run(RunAsync);

    /// <summary>Stops the flow; returns once no further row will be added.</summary>
    public async Task StopAsync()
    {
        await _stop.CancelAsync();
        if (_running is not null)
        {
            await _running;
        }
    }

    private async Task RunAsync()
    {
        using var ticker = new PeriodicTimer(plan.TradeEvery);
        while (await WaitAsync(ticker))
        {
            var account = accounts[_random.Next(accounts.Count)];
            var symbol = plan.Symbols[_random.Next(plan.Symbols.Count)];
            if (++_batches % plan.InvalidRowEvery == 0)
            {
                AddInvalidRow(account, symbol);
            }
            else
            {
                Generate(account, symbol, 1 + _random.Next(5));
            }
        }
    }

    private async Task<bool> WaitAsync(PeriodicTimer ticker)
    {
        try
        {
            return await ticker.WaitForNextTickAsync(_stop.Token);
        }
        catch (OperationCanceledException)
        {
            return false;
        }
    }

    private void Generate(ChaosAccount account, string symbol, int count)
    {
        var seed = unchecked((plan.Seed * 100_003) + _batches);
        var created = exchange.GenerateTrades(account.ApiKey, symbol, count, seed, SelfTradePairFraction, DateTimeOffset.UtcNow.ToUnixTimeMilliseconds());
        _lastIds[(account.ApiKey, symbol)] = created.Max(trade => trade.Id);
    }

    private void AddInvalidRow(ChaosAccount account, string symbol)
    {
        var id = _lastIds[(account.ApiKey, symbol)] + 1;
        var (defect, replace) = Defects[_invalidRows.Count % Defects.Length];
        var row = RowCatalogue.Row([("symbol", $"\"{symbol}\""), .. replace])
            .Replace("{ID}", id.ToString(CultureInfo.InvariantCulture), StringComparison.Ordinal)
            .Replace("{TIME}", DateTimeOffset.UtcNow.ToUnixTimeMilliseconds().ToString(CultureInfo.InvariantCulture), StringComparison.Ordinal);
        exchange.AddRawRow(account.ApiKey, symbol, id, DateTimeOffset.UtcNow.ToUnixTimeMilliseconds(), row);
        _lastIds[(account.ApiKey, symbol)] = id;
        _invalidRows.Add(new InjectedInvalidRow(account.Id, symbol, id, defect));
    }
}
