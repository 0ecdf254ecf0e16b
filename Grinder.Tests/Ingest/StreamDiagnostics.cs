using System.Globalization;
using Grinder.FakeBinance;
using Grinder.Grains;

namespace Grinder.Tests.Ingest;

/// <summary>What the account and the fake exchange saw of a stream, added to a wait that timed out.</summary>
public static class StreamDiagnostics
{
    public static async Task<T> OnTimeoutAsync<T>(Func<Task<T>> wait, FakeExchange exchange, string apiKey, IFillIngestGrain grain)
    {
        try
        {
            return await wait();
        }
        catch (TimeoutException timeout)
        {
            var snapshot = await grain.GetSnapshotAsync();
            var health = await grain.GetHealthAsync();
            var events = string.Join(", ", (snapshot.StreamEvents ?? new Dictionary<StreamEventResult, long>()).Select(pair => $"{pair.Key.Label()}={pair.Value}"));
            var stream = health.Stream is { } s
                ? string.Create(CultureInfo.InvariantCulture, $"{s.State}, connected since {s.ConnectedSinceMs}, last event {s.LastEventMs}, reconnects {s.Reconnects}, last error {s.LastError}")
                : "none";
            var connections = string.Join("; ", exchange.StreamConnections
                .Where(c => c.ApiKeys.Contains(apiKey))
                .Select(c => string.Create(CultureInfo.InvariantCulture, $"#{c.Id} live={c.LiveApiKeys.Contains(apiKey)} at {c.ConnectedAt.ToUnixTimeMilliseconds()} sent {c.MessagesSent}")));
            throw new TimeoutException(
                $"{timeout.Message}{Environment.NewLine}fills counted {IngestExpectations.Count(snapshot)}; stream events: [{events}]; "
                + $"account's stream: {stream}; exchange's connections of the key: [{connections}]; dropped by faults: {exchange.DroppedStreamEvents(apiKey).Count}",
                timeout);
        }
    }
}
