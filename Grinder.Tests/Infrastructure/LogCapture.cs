using System.Collections.Concurrent;
using Microsoft.Extensions.Logging;

namespace Grinder.Tests.Infrastructure;

/// <summary>One formatted log line with its event name, as an operator's log shipper would see it.</summary>
public sealed record CapturedLog(string Category, LogLevel Level, string? EventName, string Message, string? Exception);

/// <summary>A logger provider that keeps every line, so tests can assert on log events and prove no secret is ever logged.</summary>
public sealed class LogCapture : ILoggerProvider
{
    private readonly ConcurrentQueue<CapturedLog> _lines = new();

    public IReadOnlyCollection<CapturedLog> Lines => _lines;

    public IEnumerable<CapturedLog> Event(string eventName) => _lines.Where(line => line.EventName == eventName);

    public ILogger CreateLogger(string categoryName) => new Logger(categoryName, _lines);

    public void Dispose()
    {
    }

    private sealed class Logger(string category, ConcurrentQueue<CapturedLog> lines) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state)
            where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => logLevel >= LogLevel.Debug;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            // Keep the structured values too: a secret could hide in a parameter that the message template omits.
            var values = state is IEnumerable<KeyValuePair<string, object?>> pairs
                ? " | " + string.Join(" ", pairs.Select(pair => $"{pair.Key}={pair.Value}"))
                : string.Empty;
            lines.Enqueue(new CapturedLog(category, logLevel, eventId.Name, formatter(state, exception) + values, exception?.ToString()));
        }
    }
}
