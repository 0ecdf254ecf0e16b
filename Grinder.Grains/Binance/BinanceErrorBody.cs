using System.Text;
using System.Text.Json;

namespace Grinder.Grains.Binance;

/// <summary>
/// Binance's error body, <c>{"code":-1121,"msg":"Invalid symbol."}</c> (Binance docs "Error Codes"): read into the
/// operator-facing detail of a failed request, and for the codes the client acts on (-1021, -1125).
/// </summary>
public static class BinanceErrorBody
{
    /// <summary>Reads an error body into a short, safe text (<c>code -1121 'Invalid symbol.'</c>), or null.</summary>
    public static string? TryDescribe(ReadOnlySpan<byte> body)
    {
        try
        {
            var reader = new Utf8JsonReader(body, new JsonReaderOptions { MaxDepth = 8 });
            if (!reader.Read() || reader.TokenType != JsonTokenType.StartObject)
            {
                return null;
            }

            long? code = null;
            string? message = null;
            while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
            {
                var isCode = reader.ValueTextEquals("code"u8);
                var isMsg = reader.ValueTextEquals("msg"u8);
                reader.Read();
                if (isCode && reader.TokenType == JsonTokenType.Number && reader.TryGetInt64(out var c))
                {
                    code = c;
                }
                else if (isMsg && reader.TokenType == JsonTokenType.String)
                {
                    message = reader.GetString();
                }
                else
                {
                    BinanceJson.SkipValue(ref reader);
                }
            }

            if (code is null)
            {
                return null;
            }

            return message is null ? $"code {code}" : $"code {code} '{BinanceJson.Truncate(Printable(message), 200)}'";
        }
        catch (JsonException)
        {
            return null;
        }
        catch (InvalidOperationException)
        {
            return null;
        }
    }

    /// <summary>The Binance error code of an error body, or null.</summary>
    public static long? TryReadCode(ReadOnlySpan<byte> body) =>
        BinanceJson.TryReadTopLevelInt64(body, "code"u8, out var code) ? code : null;

    private static string Printable(string text)
    {
        var builder = new StringBuilder(text.Length);
        foreach (var c in text)
        {
            builder.Append(char.IsControl(c) ? ' ' : c);
        }

        return builder.ToString();
    }
}
