namespace Grinder.FakeBinance;

/// <summary>Every exchange request, plus the write attempts kept apart as an audit that <see cref="Reset"/> does not clear.</summary>
internal sealed class RequestLog
{
    private readonly Lock _gate = new();
    private readonly List<FakeRequestRecord> _requests = [];
    private readonly List<FakeRequestRecord> _writes = [];

    public ChangeSignal Changed { get; } = new();

    public IReadOnlyList<FakeRequestRecord> Requests
    {
        get
        {
            lock (_gate)
            {
                return [.. _requests];
            }
        }
    }

    public IReadOnlyList<FakeRequestRecord> WriteAttempts
    {
        get
        {
            lock (_gate)
            {
                return [.. _writes];
            }
        }
    }

    public void Add(FakeRequestRecord record)
    {
        lock (_gate)
        {
            _requests.Add(record);
            if (record.IsWriteAttempt)
            {
                _writes.Add(record);
            }
        }

        Changed.Notify();
    }

    public void Reset()
    {
        lock (_gate)
        {
            _requests.Clear();
        }

        Changed.Notify();
    }
}
