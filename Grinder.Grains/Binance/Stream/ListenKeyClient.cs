using System.Text.Json;

namespace Grinder.Grains.Binance.Stream;

/// <summary>
/// The account's listenKey through the read-only REST client: POST to get the active key (Binance returns the existing one and
/// extends it, so the key stays shared with the customer's own bots) and PUT to keep it alive. It has no way to DELETE.
/// </summary>
public sealed class ListenKeyClient(BinanceRestClient rest)
{
    /// <summary>Binance: "This listenKey does not exist."</summary>
    public const long ListenKeyDoesNotExist = -1125;

    /// <summary>POST <c>/fapi/v1/listenKey</c>.</summary>
    public Task<ListenKeyResult> CreateAsync(BinanceCredentials credentials, CancellationToken cancellationToken) =>
        SendAsync(keepAlive: false, credentials, cancellationToken);

    /// <summary>PUT <c>/fapi/v1/listenKey</c>: extends the active key by 60 minutes; -1125 means it is gone.</summary>
    public Task<ListenKeyResult> KeepAliveAsync(BinanceCredentials credentials, CancellationToken cancellationToken) =>
        SendAsync(keepAlive: true, credentials, cancellationToken);

    private async Task<ListenKeyResult> SendAsync(bool keepAlive, BinanceCredentials credentials, CancellationToken cancellationToken)
    {
        var response = await rest.SendListenKeyAsync(keepAlive, credentials, cancellationToken).ConfigureAwait(false);
        if (!response.IsSuccess)
        {
            return new ListenKeyResult(null, response.BinanceCode == ListenKeyDoesNotExist, response.ErrorDetail);
        }

        var key = ReadKey(response.Body.Span);
        if (key is not null)
        {
            return new ListenKeyResult(key, false, null);
        }

        // Older USD-M docs show PUT answering {}: the key is still the one we hold, which only the caller knows.
        return keepAlive && IsEmptyObject(response.Body.Span)
            ? new ListenKeyResult(string.Empty, false, null)
            : new ListenKeyResult(null, false, $"response of {BinanceEndpoints.ListenKey} has no listenKey");
    }

    private static string? ReadKey(ReadOnlySpan<byte> body)
    {
        try
        {
            var reader = new Utf8JsonReader(body);
            using var document = JsonDocument.ParseValue(ref reader);
            return document.RootElement.ValueKind == JsonValueKind.Object
                && document.RootElement.TryGetProperty("listenKey", out var key)
                && key.ValueKind == JsonValueKind.String
                && key.GetString() is { Length: > 0 and <= 256 } text
                && text.All(char.IsAsciiLetterOrDigit)
                ? text
                : null;
        }
        catch (JsonException)
        {
            return null;
        }
    }

    private static bool IsEmptyObject(ReadOnlySpan<byte> body)
    {
        try
        {
            var reader = new Utf8JsonReader(body);
            using var document = JsonDocument.ParseValue(ref reader);
            return document.RootElement.ValueKind == JsonValueKind.Object && !document.RootElement.EnumerateObject().Any();
        }
        catch (JsonException)
        {
            return false;
        }
    }
}
