using System.Security.Cryptography;

namespace Grinder.FakeBinance;

/// <summary>One listenKey per account, with Binance's lifecycle: valid for a fixed time after creation; POST on an account
/// with an active key returns that key and extends it; PUT extends it; an expired key is gone (-1125) and the next POST
/// creates a new one.</summary>
/// <remarks>"Doing a POST on an account with an active listenKey will return the currently active listenKey and extend its
/// validity for 60 minutes" (Binance USD-M user data streams).</remarks>
internal sealed class ListenKeyRegistry(TimeSpan validity)
{
    private const string Alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";

    private readonly Lock _gate = new();
    private readonly Dictionary<string, Entry> _byAccount = new(StringComparer.Ordinal);
    private readonly Dictionary<string, Entry> _byKey = new(StringComparer.Ordinal);
    private readonly List<Entry> _expiredUnannounced = [];

    /// <summary>The account's active key, extended; a new key when it has none.</summary>
    public string Create(string apiKey, long nowMs)
    {
        lock (_gate)
        {
            if (Active(apiKey, nowMs) is { } active)
            {
                active.ExpiresAtMs = nowMs + ValidityMs;
                return active.Key;
            }

            var entry = new Entry(apiKey, NewKey(), nowMs + ValidityMs);
            _byAccount[apiKey] = entry;
            _byKey[entry.Key] = entry;
            return entry.Key;
        }
    }

    /// <summary>Extends the account's active key and returns it; null when there is none (or <paramref name="listenKey"/>, when
    /// sent, is not it): the caller answers -1125.</summary>
    public string? KeepAlive(string apiKey, string? listenKey, long nowMs)
    {
        lock (_gate)
        {
            var active = Active(apiKey, nowMs);
            if (active is null || (listenKey is not null && listenKey != active.Key))
            {
                return null;
            }

            active.ExpiresAtMs = nowMs + ValidityMs;
            return active.Key;
        }
    }

    /// <summary>The account of an active key, or null.</summary>
    public string? AccountOf(string listenKey, long nowMs)
    {
        lock (_gate)
        {
            return _byKey.TryGetValue(listenKey, out var entry) && entry.ExpiresAtMs > nowMs ? entry.ApiKey : null;
        }
    }

    public string? ActiveKey(string apiKey, long nowMs)
    {
        lock (_gate)
        {
            return Active(apiKey, nowMs)?.Key;
        }
    }

    /// <summary>Ends the account's active key now. Returns it, or null when there was none.</summary>
    public string? ExpireNow(string apiKey, long nowMs)
    {
        lock (_gate)
        {
            if (Active(apiKey, nowMs) is not { } active)
            {
                return null;
            }

            active.ExpiresAtMs = nowMs;
            Retire(active);
            _expiredUnannounced.Remove(active);
            return active.Key;
        }
    }

    /// <summary>Keys that expired and were not yet announced (listenKeyExpired), as (account, key); they are forgotten.</summary>
    public List<(string ApiKey, string Key)> TakeExpired(long nowMs)
    {
        lock (_gate)
        {
            foreach (var entry in _byAccount.Values.Where(e => e.ExpiresAtMs <= nowMs).ToList())
            {
                Retire(entry);
            }

            var expired = _expiredUnannounced.Select(e => (e.ApiKey, e.Key)).ToList();
            _expiredUnannounced.Clear();
            return expired;
        }
    }

    private long ValidityMs => (long)validity.TotalMilliseconds;

    private static string NewKey() => RandomNumberGenerator.GetString(Alphabet, 64);

    private Entry? Active(string apiKey, long nowMs)
    {
        if (!_byAccount.TryGetValue(apiKey, out var entry))
        {
            return null;
        }

        if (entry.ExpiresAtMs > nowMs)
        {
            return entry;
        }

        Retire(entry);
        return null;
    }

    private void Retire(Entry entry)
    {
        _byAccount.Remove(entry.ApiKey);
        _byKey.Remove(entry.Key);
        _expiredUnannounced.Add(entry);
    }

    private sealed class Entry(string apiKey, string key, long expiresAtMs)
    {
        public string ApiKey { get; } = apiKey;

        public string Key { get; } = key;

        public long ExpiresAtMs { get; set; } = expiresAtMs;
    }
}
