using System.Globalization;

namespace Grinder.FakeBinance;

/// <summary>An error answer: HTTP status plus Binance's <c>{"code":..,"msg":".."}</c> body.</summary>
/// <remarks>Codes and messages follow the Binance USD-M futures "Error Codes" page.</remarks>
internal sealed record ApiError(int HttpStatus, int Code, string Message)
{
    public static ApiError InvalidApiKey() =>
        new(StatusCodes.Status401Unauthorized, -2015, "Invalid API-key, IP, or permissions for action.");

    public static ApiError InvalidSignature() =>
        new(StatusCodes.Status400BadRequest, -1022, "Signature for this request is not valid.");

    public static ApiError OutsideRecvWindow() =>
        new(StatusCodes.Status400BadRequest, -1021, "Timestamp for this request is outside of the recvWindow.");

    public static ApiError AheadOfServerTime() =>
        new(StatusCodes.Status400BadRequest, -1021, "Timestamp for this request was 1000ms ahead of the server's time.");

    public static ApiError Mandatory(string parameter) =>
        new(StatusCodes.Status400BadRequest, -1102, $"Mandatory parameter '{parameter}' was not sent, was empty/null, or malformed.");

    public static ApiError IllegalCharacters(string parameter) =>
        new(StatusCodes.Status400BadRequest, -1100, $"Illegal characters found in parameter '{parameter}'; legal range is '^-?[0-9]{{1,20}}$'.");

    public static ApiError DuplicateParameter(string parameter) =>
        new(StatusCodes.Status400BadRequest, -1101, $"Duplicate values for a parameter detected: '{parameter}'.");

    public static ApiError NotAllParametersRead(int read, int sent) =>
        new(StatusCodes.Status400BadRequest, -1104, $"Not all sent parameters were read; read '{read}' parameter(s) but was sent '{sent}'.");

    public static ApiError InvalidParameter(string parameter) =>
        new(StatusCodes.Status400BadRequest, -1130, $"Data sent for parameter '{parameter}' is not valid.");

    public static ApiError BadRecvWindow() =>
        new(StatusCodes.Status400BadRequest, -1131, "recvWindow must be less than 60000");

    public static ApiError InvalidSymbol() =>
        new(StatusCodes.Status400BadRequest, -1121, "Invalid symbol.");

    public static ApiError FromIdWithTime() =>
        new(StatusCodes.Status400BadRequest, -1128, "Combination of optional parameters invalid. The parameter fromId cannot be sent with startTime or endTime.");

    public static ApiError StartAfterEnd() =>
        new(StatusCodes.Status400BadRequest, -1023, "Start time is greater than end time.");

    public static ApiError WindowTooLong(TimeSpan max) =>
        new(StatusCodes.Status400BadRequest, -1127, $"More than {max.TotalHours.ToString(CultureInfo.InvariantCulture)} hours between startTime and endTime.");

    public static ApiError TooManyRequests(int limit) =>
        new(StatusCodes.Status429TooManyRequests, -1003, $"Too many requests; current limit is {limit} requests per minute. Please use the websocket for live updates to avoid polling the API.");

    public static ApiError Banned(DateTimeOffset until) =>
        new(StatusCodes.Status418ImATeapot, -1003, $"Way too many requests; IP banned until {until.ToUnixTimeMilliseconds()}. Please use the websocket for live updates to avoid bans.");

    public static ApiError ReadOnly() =>
        new(StatusCodes.Status403Forbidden, -2015, "Invalid API-key, IP, or permissions for action.");

    public static ApiError NotFound(string method, string path) =>
        new(StatusCodes.Status404NotFound, -5000, $"Path {path}, Method {method} is invalid");
}
