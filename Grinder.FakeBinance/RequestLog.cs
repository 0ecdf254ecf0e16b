namespace Grinder.FakeBinance;

/// <summary>Every exchange request, plus the write attempts kept apart as an audit that <see cref="Reset"/> does not clear.
/// Both keep the newest <c>capacity</c> records, so a long demo run does not grow without bound.</summary>
internal sealed class RequestLog(int capacity)
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
            Append(_requests, record);
            if (record.IsWriteAttempt)
            {
                Append(_writes, record);
            }
        }

        Changed.Notify();
    }

    private void Append(List<FakeRequestRecord> records, FakeRequestRecord record)
    {
        records.Add(record);

        // Trim in batches of a tenth: one RemoveRange per many appends instead of one per append.
        if (records.Count > capacity + (capacity / 10))
        {
            records.RemoveRange(0, records.Count - capacity);
        }
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
