using System.Text.Json;

namespace Grinder.Grains.Binance;

/// <summary>Small readers shared by the parsers of Binance's response bodies (trade pages, error bodies, server time).</summary>
internal static class BinanceJson
{
    /// <summary>Skips the value the reader stands on, with its children.</summary>
    internal static void SkipValue(ref Utf8JsonReader reader)
    {
        if (reader.TokenType is JsonTokenType.StartObject or JsonTokenType.StartArray)
        {
            reader.Skip();
        }
    }

    /// <summary>Reads an integer property of a top-level JSON object (<c>code</c> of an error, <c>serverTime</c>).</summary>
    internal static bool TryReadTopLevelInt64(ReadOnlySpan<byte> body, ReadOnlySpan<byte> name, out long value)
    {
        value = 0;
        try
        {
            var reader = new Utf8JsonReader(body, new JsonReaderOptions { MaxDepth = 8 });
            if (!reader.Read() || reader.TokenType != JsonTokenType.StartObject)
            {
                return false;
            }

            while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
            {
                var match = reader.ValueTextEquals(name);
                reader.Read();
                if (match)
                {
                    return reader.TokenType == JsonTokenType.Number && reader.TryGetInt64(out value);
                }

                SkipValue(ref reader);
            }

            return false;
        }
        catch (JsonException)
        {
            return false;
        }
    }

    internal static string Truncate(string text, int max) => text.Length <= max ? text : text[..max] + "…";
}
