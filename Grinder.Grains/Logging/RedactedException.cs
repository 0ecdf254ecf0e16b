namespace Grinder.Grains.Logging;

/// <summary>
/// An exception as it may be logged where its text can carry a credential (a listenKey is part of the stream URL): the
/// original's type, message and inner messages go through a redaction, and the stack trace is kept, so the log still shows
/// where it failed.
/// </summary>
public sealed class RedactedException : Exception
{
    private readonly string? _stackTrace;

    public RedactedException(Exception original, Func<string, string> redact)
        : base(Describe(original, redact))
    {
        ArgumentNullException.ThrowIfNull(redact);
        _stackTrace = redact(original.StackTrace ?? string.Empty);
    }

    public override string? StackTrace => _stackTrace;

    public override string ToString() => Message + Environment.NewLine + _stackTrace;

    private static string Describe(Exception original, Func<string, string> redact)
    {
        ArgumentNullException.ThrowIfNull(original);
        var text = original.GetType().FullName + ": " + original.Message;
        for (var inner = original.InnerException; inner is not null; inner = inner.InnerException)
        {
            text += " ---> " + inner.GetType().FullName + ": " + inner.Message;
        }

        return redact(text);
    }
}
