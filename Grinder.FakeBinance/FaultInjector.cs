namespace Grinder.FakeBinance;

/// <summary>Queued faults (consumed in order by matching userTrades requests) and seeded random faults.</summary>
internal sealed class FaultInjector(FakeRandomFaultOptions random)
{
    private static readonly int[] ServerErrorStatuses = [500, 502, 503];

    private readonly Lock _gate = new();
    private readonly List<QueuedFault> _queue = [];
    private readonly Random _draws = new(random.Seed);

    public void Enqueue(FakeFault fault)
    {
        ArgumentNullException.ThrowIfNull(fault);
        ArgumentOutOfRangeException.ThrowIfLessThan(fault.Times, 1, nameof(fault));
        lock (_gate)
        {
            _queue.Add(new QueuedFault(fault, fault.Times));
        }
    }

    public int Pending
    {
        get
        {
            lock (_gate)
            {
                return _queue.Sum(q => q.Remaining);
            }
        }
    }

    /// <summary>The fault for this request, if any: the oldest matching queued fault first, else a random draw.</summary>
    public FakeFault? Take(string? apiKey, string? symbol)
    {
        lock (_gate)
        {
            for (var i = 0; i < _queue.Count; i++)
            {
                var queued = _queue[i];
                var fault = queued.Fault;
                if ((fault.ApiKey is null || fault.ApiKey == apiKey) && (fault.Symbol is null || fault.Symbol == symbol))
                {
                    if (--queued.Remaining == 0)
                    {
                        _queue.RemoveAt(i);
                    }

                    return fault;
                }
            }

            return random.Enabled ? Draw() : null;
        }
    }

    private FakeFault? Draw()
    {
        var p = _draws.NextDouble();
        if ((p -= random.ServerError) < 0)
        {
            var status = ServerErrorStatuses[_draws.Next(ServerErrorStatuses.Length)];
            return status == 503
                ? new FakeFault(FakeFaultKind.ServiceUnavailable503, StatusCode: 503)
                : new FakeFault(FakeFaultKind.Status, StatusCode: status);
        }

        if ((p -= random.RateLimited) < 0)
        {
            return new FakeFault(FakeFaultKind.RateLimited429, RetryAfterSeconds: random.RetryAfterSeconds);
        }

        if ((p -= random.Timeout) < 0)
        {
            return new FakeFault(FakeFaultKind.Delay, Delay: random.TimeoutDelay);
        }

        if ((p -= random.Malformed) < 0)
        {
            return _draws.Next(2) == 0
                ? new FakeFault(FakeFaultKind.TruncatedJson)
                : new FakeFault(FakeFaultKind.HtmlErrorPage, StatusCode: 502);
        }

        return null;
    }

    private sealed class QueuedFault(FakeFault fault, int remaining)
    {
        public FakeFault Fault { get; } = fault;

        public int Remaining { get; set; } = remaining;
    }
}
