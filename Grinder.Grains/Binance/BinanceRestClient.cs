using System.Globalization;
using System.Net;
using Grinder.Grains.Logging;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Grinder.Grains.Binance;

/// <summary>Outcome of one logical GET (after at most one -1021 retry).</summary>
/// <param name="Body">The response body when <paramref name="Error"/> is null.</param>
/// <param name="Error">Why there is no usable body.</param>
/// <param name="ErrorDetail">Operator-facing text: path, status, Binance code; never the query, key or signature.</param>
/// <param name="Requests">HTTP requests made, including clock synchronisation.</param>
/// <param name="BinanceCode">The <c>code</c> of a Binance error body, when there was one (e.g. -1125 for a listenKey that does not exist).</param>
public sealed record BinanceResponse(ReadOnlyMemory<byte> Body, BinanceFailureKind? Error, string? ErrorDetail, int Requests, long? BinanceCode = null)
{
    public bool IsSuccess => Error is null;
}

/// <summary>
/// The read-only HTTP layer (a typed <see cref="HttpClient"/>): signs requests, follows the server clock, respects the
/// silo's weight governor, bounds every request in time and size, and turns every transport or exchange fault into a
/// <see cref="BinanceResponse"/> instead of an exception. It can only issue GET to <see cref="BinanceEndpoints.AllowedPaths"/>
/// and POST/PUT to <see cref="BinanceEndpoints.ListenKey"/>.
/// </summary>
public sealed partial class BinanceRestClient
{
    /// <summary>Binance: "Timestamp for this request is outside of the recvWindow."</summary>
    public const long TimestampOutsideRecvWindow = -1021;

    private const int ErrorBodyLimit = 16 * 1024;

    private readonly HttpClient _http;
    private readonly BinanceWeightGovernor _governor;
    private readonly BinanceServerClock _clock;
    private readonly BinanceOptions _options;
    private readonly TimeProvider _time;
    private readonly ILogger<BinanceRestClient> _logger;

    public BinanceRestClient(
        HttpClient http,
        BinanceWeightGovernor governor,
        BinanceServerClock clock,
        IOptions<BinanceOptions> options,
        TimeProvider time,
        ILogger<BinanceRestClient> logger)
    {
        _http = http;
        _time = time;
        _governor = governor;
        _clock = clock;
        _options = options.Value;
        _logger = logger;

        // Deadlines are per request (RequestTimeout), including the body read.
        _http.Timeout = Timeout.InfiniteTimeSpan;
    }

    /// <summary>
    /// Makes sure the server-time offset is fresh. Returns null when nothing was sent, else the outcome of the
    /// synchronisation; it is a failure only when no offset was ever measured (a failed periodic refresh keeps the old one).
    /// </summary>
    public async Task<BinanceResponse?> EnsureClockAsync(CancellationToken cancellationToken)
    {
        if (!_clock.NeedsSync)
        {
            return null;
        }

        var sync = await SyncClockAsync(_clock.HasOffset ? "interval" : "first use", cancellationToken).ConfigureAwait(false);
        return sync is { IsSuccess: false } && _clock.HasOffset
            ? sync with { Error = null, ErrorDetail = null }
            : sync;
    }

    /// <summary>GET a SIGNED (USER_DATA) endpoint. <paramref name="unsignedQuery"/> holds the endpoint's own parameters.</summary>
    public async Task<BinanceResponse> GetSignedAsync(
        string path, string unsignedQuery, int weight, BinanceCredentials credentials, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(credentials);
        if (!credentials.IsComplete)
        {
            return new BinanceResponse(default, BinanceFailureKind.Http, $"no API key/secret configured for {path}", 0);
        }

        var requests = 0;
        var sync = await EnsureClockAsync(cancellationToken).ConfigureAwait(false);
        if (sync is not null)
        {
            requests += sync.Requests;
            if (!sync.IsSuccess)
            {
                return sync with { Requests = requests };
            }
        }

        for (var attempt = 0; ; attempt++)
        {
            var response = await SendAsync(HttpMethod.Get, path, unsignedQuery, weight, credentials, sign: true, cancellationToken).ConfigureAwait(false);
            requests += response.Result.Requests;
            if (response.BinanceCode == TimestampOutsideRecvWindow && attempt == 0)
            {
                // Binance docs: -1021 means our timestamp is off the server clock; resync once and retry once.
                _clock.Invalidate();
                var resync = await SyncClockAsync("error -1021", cancellationToken).ConfigureAwait(false);
                requests += resync?.Requests ?? 0;
                if (resync is { IsSuccess: false })
                {
                    return resync with { Requests = requests };
                }

                continue;
            }

            return response.Result with { Requests = requests };
        }
    }

    /// <summary>GET a public (NONE security) endpoint.</summary>
    public async Task<BinanceResponse> GetPublicAsync(string path, string query, int weight, CancellationToken cancellationToken)
    {
        var response = await SendAsync(HttpMethod.Get, path, query, weight, credentials: null, sign: false, cancellationToken).ConfigureAwait(false);
        return response.Result;
    }

    /// <summary>
    /// Starts (<paramref name="keepAlive"/> false: POST) or keeps alive (PUT) the account's user data stream on
    /// <see cref="BinanceEndpoints.ListenKey"/>: USER_STREAM security, the API key header and no signature (Binance docs).
    /// There is deliberately no way to DELETE it.
    /// </summary>
    public async Task<BinanceResponse> SendListenKeyAsync(bool keepAlive, BinanceCredentials credentials, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(credentials);
        if (string.IsNullOrEmpty(credentials.ApiKey))
        {
            return new BinanceResponse(default, BinanceFailureKind.Http, $"no API key configured for {BinanceEndpoints.ListenKey}", 0);
        }

        var method = keepAlive ? BinanceEndpoints.ListenKeyKeepAlive : BinanceEndpoints.ListenKeyStart;
        var response = await SendAsync(method, BinanceEndpoints.ListenKey, string.Empty, BinanceEndpoints.ListenKeyWeight, credentials, sign: false, cancellationToken)
            .ConfigureAwait(false);
        return response.Result with { BinanceCode = response.BinanceCode };
    }

    private async Task<BinanceResponse?> SyncClockAsync(string reason, CancellationToken cancellationToken)
    {
        await _clock.SyncGate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            // Another caller may have synchronised while this one waited.
            if (!_clock.NeedsSync)
            {
                return null;
            }

            var sentAt = _clock.LocalNowMs;
            var response = await GetPublicAsync(BinanceEndpoints.Time, string.Empty, BinanceEndpoints.TimeWeight, cancellationToken)
                .ConfigureAwait(false);
            var receivedAt = _clock.LocalNowMs;
            if (!response.IsSuccess)
            {
                return response with { ErrorDetail = "server time: " + response.ErrorDetail };
            }

            if (!BinanceServerClock.TryReadServerTime(response.Body.Span, out var serverTime))
            {
                return response with
                {
                    Error = BinanceFailureKind.Parse,
                    ErrorDetail = $"server time: response of {BinanceEndpoints.Time} has no numeric serverTime",
                };
            }

            var offset = _clock.Record(serverTime, sentAt, receivedAt);
            LogClockResync(_logger, offset, reason);
            return response;
        }
        finally
        {
            _clock.SyncGate.Release();
        }
    }

    private readonly record struct SendResult(BinanceResponse Result, long? BinanceCode);

    private async Task<SendResult> SendAsync(
        HttpMethod method, string path, string query, int weight, BinanceCredentials? credentials, bool sign, CancellationToken cancellationToken)
    {
        var uri = new Uri(_options.BaseUrl.AbsoluteUri.TrimEnd('/') + path);
        if (!ReadOnlyGuardHandler.IsAllowed(method, uri))
        {
            throw new InvalidOperationException($"Refused {method} {path}: not an allowed read-only Binance request.");
        }

        // Waiting for budget can take up to a minute: sign only afterwards so the timestamp is fresh.
        await _governor.AcquireAsync(weight, cancellationToken).ConfigureAwait(false);

        string? signature = null;
        var fullQuery = query;
        if (credentials is not null && sign)
        {
            (fullQuery, signature) = BinanceSigner.SignQuery(query, credentials.ApiSecret, _clock.ServerNowMs, _options.RecvWindow);
        }

        uri = new Uri(_options.BaseUrl.AbsoluteUri.TrimEnd('/') + path + (fullQuery.Length > 0 ? "?" + fullQuery : string.Empty));
        using var request = new HttpRequestMessage(method, uri);
        if (credentials is not null)
        {
            request.Headers.TryAddWithoutValidation("X-MBX-APIKEY", credentials.ApiKey);
        }

        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(_options.RequestTimeout);
        try
        {
            using var response = await _http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, timeout.Token)
                .ConfigureAwait(false);
            _governor.Observe(response.StatusCode, ReadUsedWeight(response), ReadRetryAfter(response));

            if (!response.IsSuccessStatusCode)
            {
                var (errorBody, _) = await ReadBodyAsync(response, ErrorBodyLimit, timeout.Token).ConfigureAwait(false);
                var code = BinanceErrorBody.TryReadCode(errorBody.Span);
                var binanceError = BinanceErrorBody.TryDescribe(errorBody.Span);
                var detail = $"HTTP {(int)response.StatusCode} from {path}" + (binanceError is null ? string.Empty : ": Binance " + binanceError);
                detail = Redact(detail, credentials, signature);
                LogRequestFailed(_logger, path, (int)response.StatusCode, detail);
                return new SendResult(new BinanceResponse(default, BinanceFailureKind.Http, detail, 1), code);
            }

            var (body, oversized) = await ReadBodyAsync(response, _options.MaxResponseBytes, timeout.Token).ConfigureAwait(false);
            if (oversized)
            {
                var detail = $"response of {path} is larger than {_options.MaxResponseBytes} bytes";
                LogRequestFailed(_logger, path, (int)response.StatusCode, detail);
                return new SendResult(new BinanceResponse(default, BinanceFailureKind.Parse, detail, 1), null);
            }

            return new SendResult(new BinanceResponse(body, null, null, 1), null);
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            var detail = $"timeout after {_options.RequestTimeout.TotalSeconds.ToString(CultureInfo.InvariantCulture)} s on {path}";
            LogRequestFailed(_logger, path, 0, detail);
            return new SendResult(new BinanceResponse(default, BinanceFailureKind.Http, detail, 1), null);
        }
        catch (HttpRequestException ex)
        {
            var detail = Redact($"transport failure on {path}: {ex.HttpRequestError} ({ex.Message})", credentials, signature);
            LogRequestFailed(_logger, path, 0, detail);
            return new SendResult(new BinanceResponse(default, BinanceFailureKind.Http, detail, 1), null);
        }
        catch (IOException ex)
        {
            // Connection reset while reading the body.
            var detail = Redact($"transport failure reading {path}: {ex.Message}", credentials, signature);
            LogRequestFailed(_logger, path, 0, detail);
            return new SendResult(new BinanceResponse(default, BinanceFailureKind.Http, detail, 1), null);
        }
    }

    private static async Task<(ReadOnlyMemory<byte> Body, bool Oversized)> ReadBodyAsync(
        HttpResponseMessage response, int limit, CancellationToken cancellationToken)
    {
        if (response.Content.Headers.ContentLength is { } declared && declared > limit)
        {
            return (default, true);
        }

        var stream = await response.Content.ReadAsStreamAsync(cancellationToken).ConfigureAwait(false);
        await using (stream.ConfigureAwait(false))
        {
            var buffer = new byte[(int)Math.Min(limit + 1L, response.Content.Headers.ContentLength ?? 64 * 1024) + 1];
            var length = 0;
            while (true)
            {
                if (length == buffer.Length)
                {
                    if (buffer.Length > limit)
                    {
                        return (default, true);
                    }

                    Array.Resize(ref buffer, (int)Math.Min(limit + 1L, buffer.Length * 2L));
                }

                var read = await stream.ReadAsync(buffer.AsMemory(length), cancellationToken).ConfigureAwait(false);
                if (read == 0)
                {
                    break;
                }

                length += read;
                if (length > limit)
                {
                    return (default, true);
                }
            }

            return (buffer.AsMemory(0, length), false);
        }
    }

    private static int? ReadUsedWeight(HttpResponseMessage response)
    {
        // Binance: X-MBX-USED-WEIGHT-(intervalNum)(intervalLetter), here the 1-minute interval.
        if (response.Headers.TryGetValues("X-MBX-USED-WEIGHT-1M", out var values))
        {
            foreach (var value in values)
            {
                if (int.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out var used))
                {
                    return used;
                }
            }
        }

        return null;
    }

    private TimeSpan? ReadRetryAfter(HttpResponseMessage response)
    {
        var retryAfter = response.Headers.RetryAfter;
        if (retryAfter?.Delta is { } delta)
        {
            return delta;
        }

        if (retryAfter?.Date is { } date)
        {
            return date - _time.GetUtcNow();
        }

        return null;
    }

    /// <summary>Removes the key, the secret and the signature from text that came from outside (exception or exchange messages).</summary>
    internal static string Redact(string text, BinanceCredentials? credentials, string? signature)
    {
        if (credentials is not null)
        {
            text = ReplaceIfPresent(text, credentials.ApiSecret);
            text = ReplaceIfPresent(text, credentials.ApiKey);
        }

        return ReplaceIfPresent(text, signature);

        static string ReplaceIfPresent(string text, string? secret) =>
            string.IsNullOrEmpty(secret) ? text : text.Replace(secret, "***", StringComparison.Ordinal);
    }

    [LoggerMessage(EventId = LogEvents.Binance.BinanceClockResync, EventName = "BINANCE_CLOCK_RESYNC", Level = LogLevel.Information,
        Message = "BINANCE_CLOCK_RESYNC server time offset is {OffsetMs} ms (reason: {Reason})")]
    private static partial void LogClockResync(ILogger logger, long offsetMs, string reason);

    [LoggerMessage(EventId = LogEvents.Binance.BinanceRequestFailed, EventName = "BINANCE_REQUEST_FAILED", Level = LogLevel.Warning,
        Message = "BINANCE_REQUEST_FAILED path={Path} status={Status}: {Detail}")]
    private static partial void LogRequestFailed(ILogger logger, string path, int status, string detail);
}
