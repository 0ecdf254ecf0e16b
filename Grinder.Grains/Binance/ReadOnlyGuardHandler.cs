namespace Grinder.Grains.Binance;

/// <summary>
/// Last line of the read-only guarantee, in the Binance HttpClient's pipeline: refuses any request that is not a GET to
/// one of <see cref="BinanceEndpoints.AllowedPaths"/> or a POST/PUT to exactly <see cref="BinanceEndpoints.ListenKey"/>, so
/// even a future bug cannot place, amend or cancel an order, nor DELETE the shared listenKey.
/// </summary>
public sealed class ReadOnlyGuardHandler : DelegatingHandler
{
    /// <summary>True when <paramref name="method"/> and <paramref name="uri"/> are a request this service may make.</summary>
    public static bool IsAllowed(HttpMethod method, Uri? uri) =>
        uri is { IsAbsoluteUri: true }
        && (method == HttpMethod.Get
            ? BinanceEndpoints.AllowedPaths.Contains(uri.AbsolutePath)
            : BinanceEndpoints.ListenKeyMethods.Contains(method) && uri.AbsolutePath == BinanceEndpoints.ListenKey);

    protected override Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        Refuse(request);
        return base.SendAsync(request, cancellationToken);
    }

    protected override HttpResponseMessage Send(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        Refuse(request);
        return base.Send(request, cancellationToken);
    }

    private static void Refuse(HttpRequestMessage request)
    {
        if (!IsAllowed(request.Method, request.RequestUri))
        {
            // Path only: the query of a signed request carries the signature.
            throw new InvalidOperationException(
                $"Refused {request.Method} {request.RequestUri?.AbsolutePath}: the Binance client is read-only (GET to {string.Join(", ", BinanceEndpoints.AllowedPaths)}, POST/PUT to {BinanceEndpoints.ListenKey} only).");
        }
    }
}
