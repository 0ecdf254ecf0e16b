namespace Grinder.FakeBinance;

/// <summary>Keeps adding fills to one account on a timer (the local demo, compose <c>fake</c> profile and smoke scripts).
/// Stops when disposed or when its exchange is disposed.</summary>
public sealed class FakeTradeGenerator : IAsyncDisposable
{
    private readonly FakeExchange _exchange;
    private readonly string _apiKey;
    private readonly string[] _symbols;
    private readonly int _countPerTick;
    private readonly int _seed;
    private readonly double _selfTradePairFraction;
    private readonly ILogger _logger;
    private readonly CancellationTokenSource _stop = new();
    private readonly PeriodicTimer _timer;
    private readonly Task _loop;
    private long _ticks;
    private int _disposed;

    internal FakeTradeGenerator(FakeExchange exchange, string apiKey, IReadOnlyList<string> symbols, TimeSpan interval, int countPerTick, int seed, double selfTradePairFraction, TimeProvider timeProvider, ILogger logger)
    {
        ArgumentNullException.ThrowIfNull(symbols);
        if (symbols.Count == 0 || symbols.Any(string.IsNullOrWhiteSpace))
        {
            throw new ArgumentException("At least one symbol, and no empty symbol, is required.", nameof(symbols));
        }

        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(interval, TimeSpan.Zero);
        ArgumentOutOfRangeException.ThrowIfLessThan(countPerTick, 1);
        _exchange = exchange;
        _apiKey = apiKey;
        _symbols = [.. symbols];
        _countPerTick = countPerTick;
        _seed = seed;
        _selfTradePairFraction = selfTradePairFraction;
        _logger = logger;
        _timer = new PeriodicTimer(interval, timeProvider);
        Log.GeneratorStarted(logger, countPerTick, interval, Log.Hint(apiKey), string.Join(',', _symbols));
        _loop = Task.Run(RunAsync);
    }

    /// <summary>Ticks completed so far.</summary>
    public long Ticks => Interlocked.Read(ref _ticks);

    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) == 1)
        {
            return;
        }

        await _stop.CancelAsync().ConfigureAwait(false);
        _timer.Dispose();
        await _loop.ConfigureAwait(false);
        _stop.Dispose();
    }

    private async Task RunAsync()
    {
        try
        {
            while (await _timer.WaitForNextTickAsync(_stop.Token).ConfigureAwait(false))
            {
                var tick = Ticks;
                try
                {
                    for (var i = 0; i < _symbols.Length; i++)
                    {
                        // A different seed per tick and symbol, still reproducible from the generator's seed.
                        _exchange.GenerateTrades(_apiKey, _symbols[i], _countPerTick, unchecked(_seed + (int)(tick * 7919) + i), _selfTradePairFraction);
                    }
                }
                catch (Exception ex) when (ex is InvalidOperationException or ArgumentException or KeyNotFoundException)
                {
                    Log.GeneratorFailed(_logger, ex, Log.Hint(_apiKey));
                }

                Interlocked.Increment(ref _ticks);
            }
        }
        catch (OperationCanceledException) when (_stop.IsCancellationRequested)
        {
            // Disposed.
        }
    }
}
