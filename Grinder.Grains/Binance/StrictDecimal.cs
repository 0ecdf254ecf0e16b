using System.Buffers.Text;

namespace Grinder.Grains.Binance;

/// <summary>Binance's amounts (decimal strings such as <c>"7819.01"</c>) read as exact decimals, strictly.</summary>
public static class StrictDecimal
{
    /// <summary>Longest amount accepted, in bytes.</summary>
    public const int MaxLength = 64;

    /// <summary>
    /// Accepts only <c>-?digits(.digits)?</c>, as Binance prints amounts: no sign '+', exponent, whitespace, thousands
    /// separator, NaN or Infinity, whatever the host culture. Returns null on success or a short problem description.
    /// </summary>
    public static string? TryParse(ReadOnlySpan<byte> text, out decimal value)
    {
        value = 0;
        if (text.IsEmpty)
        {
            return "empty";
        }

        if (text.Length > MaxLength)
        {
            return "too long";
        }

        var i = text[0] == (byte)'-' ? 1 : 0;
        var intStart = i;
        while (i < text.Length && IsDigit(text[i]))
        {
            i++;
        }

        if (i == intStart)
        {
            return "not a plain decimal number";
        }

        if (i < text.Length && text[i] == (byte)'.')
        {
            var fracStart = ++i;
            while (i < text.Length && IsDigit(text[i]))
            {
                i++;
            }

            if (i == fracStart)
            {
                return "not a plain decimal number";
            }
        }

        if (i != text.Length)
        {
            return "not a plain decimal number";
        }

        // 'F' = fixed notation, invariant by construction (Utf8Parser never reads the culture).
        if (!Utf8Parser.TryParse(text, out value, out var consumed, 'F') || consumed != text.Length)
        {
            return "out of decimal range";
        }

        return null;
    }

    private static bool IsDigit(byte b) => (uint)(b - '0') <= 9;
}
