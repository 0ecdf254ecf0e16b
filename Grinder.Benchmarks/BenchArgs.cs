using System.Globalization;

namespace Grinder.Benchmarks;

/// <summary>
/// <c>--name value</c> arguments of one harness. Every value a harness reads is echoed in its report (with defaults), and
/// an argument no harness read is an error, so a typo never silently runs the defaults.
/// </summary>
internal sealed class BenchArgs
{
    private readonly Dictionary<string, string> _given = new(StringComparer.OrdinalIgnoreCase);
    private readonly HashSet<string> _read = new(StringComparer.OrdinalIgnoreCase);
    private readonly List<string> _used = [];

    public BenchArgs(IReadOnlyList<string> args)
    {
        for (var i = 0; i < args.Count; i++)
        {
            var arg = args[i];
            if (!arg.StartsWith("--", StringComparison.Ordinal))
            {
                throw new ArgumentException($"unexpected argument '{arg}' (arguments are --name value)");
            }

            var eq = arg.IndexOf('=', StringComparison.Ordinal);
            if (eq > 0)
            {
                _given[arg[2..eq]] = arg[(eq + 1)..];
            }
            else if (i + 1 < args.Count)
            {
                _given[arg[2..]] = args[++i];
            }
            else
            {
                throw new ArgumentException($"argument {arg} needs a value");
            }
        }
    }

    /// <summary>The parameters this run used, defaults included, as <c>--name value</c> text.</summary>
    public string Used => string.Join(' ', _used);

    public int Int(string name, int fallback) =>
        Read(name, fallback, text => int.Parse(text.Replace("_", string.Empty, StringComparison.Ordinal), NumberStyles.Integer, CultureInfo.InvariantCulture));

    /// <summary>A duration: <c>250ms</c>, <c>5s</c> (or <c>5</c>), <c>2m</c>, or a TimeSpan such as <c>00:00:05</c>.</summary>
    public TimeSpan Duration(string name, TimeSpan fallback) => Read(name, fallback, ParseDuration);

    public string Text(string name, string fallback) => Read(name, fallback, text => text);

    public IReadOnlyList<int> Ints(string name, string fallback) =>
        Read(name, fallback, text => text).Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
            .Select(part => int.Parse(part.Replace("_", string.Empty, StringComparison.Ordinal), NumberStyles.Integer, CultureInfo.InvariantCulture))
            .ToList();

    /// <summary>Throws when an argument was given that the harness never asked for.</summary>
    public void RejectUnknown()
    {
        var unknown = _given.Keys.Where(name => !_read.Contains(name)).ToList();
        if (unknown.Count > 0)
        {
            throw new ArgumentException($"unknown argument(s): {string.Join(", ", unknown.Select(name => "--" + name))}; this harness reads: {string.Join(", ", _read.Select(name => "--" + name))}");
        }
    }

    private T Read<T>(string name, T fallback, Func<string, T> parse)
    {
        _read.Add(name);
        var value = fallback;
        if (_given.TryGetValue(name, out var text))
        {
            try
            {
                value = parse(text);
            }
            catch (FormatException)
            {
                throw new ArgumentException($"--{name}: cannot read '{text}'");
            }
        }

        _used.Add($"--{name} {(value is TimeSpan span ? BenchReport.Format(span) : Convert.ToString(value, CultureInfo.InvariantCulture))}");
        return value;
    }

    private static TimeSpan ParseDuration(string text)
    {
        // A bare number is seconds (TimeSpan.Parse would read "10" as ten days).
        if (double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out var seconds))
        {
            return TimeSpan.FromSeconds(seconds);
        }

        foreach (var (suffix, unit) in new[] { ("ms", 1.0), ("s", 1000.0), ("m", 60_000.0) })
        {
            if (text.EndsWith(suffix, StringComparison.OrdinalIgnoreCase)
                && double.TryParse(text[..^suffix.Length], NumberStyles.Float, CultureInfo.InvariantCulture, out var number))
            {
                return TimeSpan.FromMilliseconds(number * unit);
            }
        }

        return TimeSpan.Parse(text, CultureInfo.InvariantCulture);
    }
}
