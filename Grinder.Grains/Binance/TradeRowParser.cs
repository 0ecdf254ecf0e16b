using System.Text;
using System.Text.Json;

namespace Grinder.Grains.Binance;

/// <summary>What one <c>GET /fapi/v1/userTrades</c> response body contained.</summary>
/// <param name="Trades">Valid rows in the order of the page.</param>
/// <param name="Rejected">Rows that failed validation, in the order of the page.</param>
/// <param name="RowCount">Elements of the array, valid or not: decides whether the page was full.</param>
/// <param name="MaxId">Highest trade id of the page the read position may move to (see <see cref="TradeRowParser.ParsePage"/>):
/// a valid row of the requested symbol, or a rejected row of that symbol whose id a later valid row confirms.</param>
/// <param name="MaxIdTimeMs">Time of the row with <paramref name="MaxId"/>, when readable.</param>
/// <param name="PageError">Set when the body as a whole is unusable (not a JSON array, malformed, truncated); all other fields are then empty.</param>
public sealed record TradePage(
    IReadOnlyList<ParsedTrade> Trades,
    IReadOnlyList<RejectedRow> Rejected,
    int RowCount,
    long? MaxId,
    long? MaxIdTimeMs,
    string? PageError)
{
    internal static TradePage Failed(string error) => new([], [], 0, null, null, error);
}

/// <summary>
/// Parses and validates userTrades pages straight from the UTF-8 bytes (<see cref="Utf8JsonReader"/>, no reflection,
/// no intermediate strings for numbers). Rows are validated one by one: a bad row is rejected with a short reason and
/// never stops the rows after it; only a body that is not a well-formed JSON array fails the page.
/// </summary>
/// <remarks>
/// Row shape from Binance USD-M "Account Trade List (USER_DATA)": <c>id, orderId, symbol, side, price, qty, quoteQty,
/// realizedPnl, commission, commissionAsset, time, buyer, maker, positionSide</c>; ids and time are JSON numbers, amounts
/// are decimal strings. Unknown extra fields are ignored (Binance adds fields without notice, e.g. <c>marginAsset</c>).
/// </remarks>
public static class TradeRowParser
{
    /// <summary>Rejected rows keep at most this many characters of their raw JSON.</summary>
    public const int RawMaxChars = 512;

    // Size of the buffer escaped string values are unescaped into: the longest value read here, an amount, fits.
    private const int MaxNumberLength = StrictDecimal.MaxLength;
    private const int MaxAssetLength = 20;

    [Flags]
    private enum Field
    {
        None = 0,
        Id = 1 << 0,
        OrderId = 1 << 1,
        Symbol = 1 << 2,
        Side = 1 << 3,
        Price = 1 << 4,
        Qty = 1 << 5,
        QuoteQty = 1 << 6,
        RealizedPnl = 1 << 7,
        Commission = 1 << 8,
        CommissionAsset = 1 << 9,
        Time = 1 << 10,
        Buyer = 1 << 11,
        Maker = 1 << 12,
        PositionSide = 1 << 13,
        Unknown = 1 << 20,
    }

    private static readonly (Field Field, byte[] Utf8Name)[] Names =
    [
        (Field.Id, "id"u8.ToArray()),
        (Field.OrderId, "orderId"u8.ToArray()),
        (Field.Symbol, "symbol"u8.ToArray()),
        (Field.Side, "side"u8.ToArray()),
        (Field.Price, "price"u8.ToArray()),
        (Field.Qty, "qty"u8.ToArray()),
        (Field.QuoteQty, "quoteQty"u8.ToArray()),
        (Field.RealizedPnl, "realizedPnl"u8.ToArray()),
        (Field.Commission, "commission"u8.ToArray()),
        (Field.CommissionAsset, "commissionAsset"u8.ToArray()),
        (Field.Time, "time"u8.ToArray()),
        (Field.Buyer, "buyer"u8.ToArray()),
        (Field.Maker, "maker"u8.ToArray()),
        (Field.PositionSide, "positionSide"u8.ToArray()),
    ];

    // Every field but buyer is required; checked in this order so the reported "missing field" is stable.
    private static readonly (Field Field, string Reason)[] Required = Names
        .Where(n => n.Field != Field.Buyer)
        .Select(n => (n.Field, "missing field: " + Encoding.ASCII.GetString(n.Utf8Name)))
        .ToArray();

    /// <summary>Parses one response body. <paramref name="symbol"/> is the symbol that was requested: rows of another symbol are rejected.</summary>
    /// <remarks>
    /// The read position must never pass a trade that exists, so only trusted ids count for <see cref="TradePage.MaxId"/>.
    /// A valid row of the requested symbol is trusted. A rejected row's id may be corrupt (a huge id would hide every later
    /// trade of the symbol), and a row of another symbol belongs to another id sequence (trade ids are per symbol: Binance
    /// docs), so neither counts by itself. Rows come in ascending id order (Binance docs), so a rejected row of the
    /// requested symbol is trusted when a later valid row on the page has a higher id. A page with no valid row at all lets a
    /// later rejected row confirm it instead, so a full page of bad rows cannot stall the read position forever.
    /// </remarks>
    public static TradePage ParsePage(ReadOnlySpan<byte> utf8, string symbol)
    {
        ArgumentException.ThrowIfNullOrEmpty(symbol);

        // A UTF-8 byte order mark is legal in HTTP bodies but not a JSON token.
        if (utf8.StartsWith((ReadOnlySpan<byte>)[0xEF, 0xBB, 0xBF]))
        {
            utf8 = utf8[3..];
        }

        var first = FirstNonWhitespace(utf8);
        if (first < 0)
        {
            return TradePage.Failed("empty response body, expected a JSON array");
        }

        if (utf8[first] != (byte)'[')
        {
            return TradePage.Failed(DescribeNonArray(utf8[first..]));
        }

        var symbolBytes = Encoding.UTF8.GetBytes(symbol);
        var scratch = new byte[MaxNumberLength];

        var trades = new List<ParsedTrade>(Math.Min(1024, 1 + (utf8.Length / 280)));
        List<RejectedRow>? rejected = null;
        var rowCount = 0;
        List<(long Id, long? TimeMs, bool Valid)>? ids = null;
        var assets = new AssetCache();

        var reader = new Utf8JsonReader(utf8, new JsonReaderOptions { CommentHandling = JsonCommentHandling.Disallow, MaxDepth = 16 });
        try
        {
            reader.Read(); // the '[' found above
            while (true)
            {
                if (!reader.Read())
                {
                    return TradePage.Failed("truncated JSON array");
                }

                if (reader.TokenType == JsonTokenType.EndArray)
                {
                    break;
                }

                rowCount++;
                var start = (int)reader.TokenStartIndex;
                if (reader.TokenType != JsonTokenType.StartObject)
                {
                    reader.Skip();
                    var rawEnd = (int)reader.BytesConsumed;
                    (rejected ??= []).Add(new RejectedRow(symbol, null, null, "row is not a JSON object", Raw(utf8[start..rawEnd])));
                    continue;
                }

                var row = ParseRow(ref reader, symbol, symbolBytes, scratch, ref assets);
                if (row.Id is { } id && row.OwnSymbol)
                {
                    (ids ??= []).Add((id, row.TimeMs, row.Trade is not null));
                }

                if (row.Trade is not null)
                {
                    trades.Add(row.Trade);
                }
                else
                {
                    var end = (int)reader.BytesConsumed;
                    (rejected ??= []).Add(new RejectedRow(symbol, row.Id, row.TimeMs, row.Error!, Raw(utf8[start..end])));
                }
            }

            // Anything after the closing bracket other than whitespace makes the reader throw here.
            if (reader.Read())
            {
                return TradePage.Failed("unexpected data after the JSON array");
            }
        }
        catch (JsonException ex)
        {
            return TradePage.Failed($"malformed or truncated JSON at byte {reader.BytesConsumed} ({ShortJsonError(ex)})");
        }

        var (maxId, maxIdTime) = TrustedMaxId(ids, confirmByRejected: trades.Count == 0);
        return new TradePage(trades, (IReadOnlyList<RejectedRow>?)rejected ?? [], rowCount, maxId, maxIdTime, null);
    }

    // Walks the page backwards: a row is trusted when valid, or when a later row that may confirm it has a higher id.
    private static (long? Id, long? TimeMs) TrustedMaxId(List<(long Id, long? TimeMs, bool Valid)>? ids, bool confirmByRejected)
    {
        if (ids is null)
        {
            return (null, null);
        }

        long? maxId = null;
        long? maxTime = null;
        long? confirmingId = null;
        for (var i = ids.Count - 1; i >= 0; i--)
        {
            var (id, time, valid) = ids[i];
            var trusted = valid || (confirmingId is { } later && later > id);
            if (trusted && (maxId is null || id > maxId))
            {
                maxId = id;
                maxTime = time;
            }

            if ((valid || confirmByRejected) && (confirmingId is null || id > confirmingId))
            {
                confirmingId = id;
            }
        }

        return (maxId, maxTime);
    }

    private readonly record struct RowResult(ParsedTrade? Trade, long? Id, long? TimeMs, string? Error, bool OwnSymbol = true);

    private static RowResult ParseRow(ref Utf8JsonReader reader, string symbol, byte[] symbolBytes, byte[] scratch, ref AssetCache assets)
    {
        var seen = Field.None;
        string? error = null;
        var ownSymbol = true;
        long id = 0, orderId = 0, time = 0;
        bool idOk = false, timeOk = false;
        decimal price = 0, qty = 0, quoteQty = 0, realizedPnl = 0, commission = 0;
        FillSide side = default;
        var maker = false;
        bool? buyer = null;
        string? asset = null;
        string? positionSide = null;

        while (reader.Read() && reader.TokenType != JsonTokenType.EndObject)
        {
            var field = Identify(ref reader);
            reader.Read();
            if (field != Field.Unknown)
            {
                if ((seen & field) != 0)
                {
                    error ??= "duplicate field: " + Name(field);
                    BinanceJson.SkipValue(ref reader);
                    continue;
                }

                seen |= field;
            }

            switch (field)
            {
                case Field.Id:
                    idOk = ReadPositiveLong(ref reader, "id", ref error, out id);
                    break;
                case Field.OrderId:
                    ReadPositiveLong(ref reader, "orderId", ref error, out orderId);
                    break;
                case Field.Time:
                    timeOk = ReadPositiveLong(ref reader, "time", ref error, out time);
                    break;
                case Field.Symbol:
                    if (ReadString(ref reader, "symbol", scratch, ref error, out var symbolValue)
                        && !symbolValue.SequenceEqual((ReadOnlySpan<byte>)symbolBytes))
                    {
                        error ??= "symbol: not the requested symbol";
                        ownSymbol = false;
                    }

                    break;
                case Field.Side:
                    if (ReadString(ref reader, "side", scratch, ref error, out var sideValue))
                    {
                        if (sideValue.SequenceEqual("BUY"u8))
                        {
                            side = FillSide.Buy;
                        }
                        else if (sideValue.SequenceEqual("SELL"u8))
                        {
                            side = FillSide.Sell;
                        }
                        else
                        {
                            error ??= "side: must be BUY or SELL";
                        }
                    }

                    break;
                case Field.Price:
                    if (ReadDecimal(ref reader, "price", scratch, ref error, out price) && price <= 0)
                    {
                        error ??= "price: must be > 0";
                    }

                    break;
                case Field.Qty:
                    if (ReadDecimal(ref reader, "qty", scratch, ref error, out qty) && qty <= 0)
                    {
                        error ??= "qty: must be > 0";
                    }

                    break;
                case Field.QuoteQty:
                    if (ReadDecimal(ref reader, "quoteQty", scratch, ref error, out quoteQty) && quoteQty < 0)
                    {
                        error ??= "quoteQty: must be >= 0";
                    }

                    break;
                case Field.RealizedPnl:
                    ReadDecimal(ref reader, "realizedPnl", scratch, ref error, out realizedPnl);
                    break;
                case Field.Commission:
                    // May be negative: a maker rebate (Binance docs), counted separately, never subtracted.
                    ReadDecimal(ref reader, "commission", scratch, ref error, out commission);
                    break;
                case Field.CommissionAsset:
                    if (ReadString(ref reader, "commissionAsset", scratch, ref error, out var assetValue))
                    {
                        if (assetValue.IsEmpty)
                        {
                            error ??= "commissionAsset: empty";
                        }
                        else if (assetValue.Length > MaxAssetLength || !IsAsciiAlphanumeric(assetValue))
                        {
                            error ??= "commissionAsset: not an asset code";
                        }
                        else
                        {
                            asset = assets.Get(assetValue);
                        }
                    }

                    break;
                case Field.PositionSide:
                    if (ReadString(ref reader, "positionSide", scratch, ref error, out var positionValue))
                    {
                        positionSide = positionValue.SequenceEqual("BOTH"u8) ? "BOTH"
                            : positionValue.SequenceEqual("LONG"u8) ? "LONG"
                            : positionValue.SequenceEqual("SHORT"u8) ? "SHORT"
                            : null;
                        if (positionSide is null)
                        {
                            error ??= "positionSide: must be BOTH, LONG or SHORT";
                        }
                    }

                    break;
                case Field.Maker:
                    if (ReadBool(ref reader, "maker", ref error, out var makerValue))
                    {
                        maker = makerValue;
                    }

                    break;
                case Field.Buyer:
                    if (ReadBool(ref reader, "buyer", ref error, out var buyerValue))
                    {
                        buyer = buyerValue;
                    }

                    break;
                default:
                    BinanceJson.SkipValue(ref reader);
                    break;
            }
        }

        long? readableId = idOk ? id : null;
        long? readableTime = timeOk ? time : null;
        if (error is null)
        {
            foreach (var (field, reason) in Required)
            {
                if ((seen & field) == 0)
                {
                    error = reason;
                    break;
                }
            }
        }

        // buyer is the account's side of the trade: it must agree with side (docs: side BUY <=> buyer true).
        if (error is null && buyer is { } isBuyer && isBuyer != (side == FillSide.Buy))
        {
            error = "buyer: disagrees with side";
        }

        if (error is not null)
        {
            return new RowResult(null, readableId, readableTime, error, ownSymbol);
        }

        var trade = new ParsedTrade(
            symbol, id, orderId, side, maker ? FillLiquidity.Maker : FillLiquidity.Taker,
            price, qty, quoteQty, realizedPnl, commission, asset!, time, positionSide!);
        return new RowResult(trade, id, time, null);
    }

    private static Field Identify(ref Utf8JsonReader reader)
    {
        if (reader.ValueIsEscaped)
        {
            // Rare (Binance never escapes plain ASCII names): let the reader unescape while comparing.
            foreach (var (field, utf8Name) in Names)
            {
                if (reader.ValueTextEquals(utf8Name))
                {
                    return field;
                }
            }

            return Field.Unknown;
        }

        var name = reader.ValueSpan;
        return name.Length switch
        {
            2 when name.SequenceEqual("id"u8) => Field.Id,
            3 when name.SequenceEqual("qty"u8) => Field.Qty,
            4 when name.SequenceEqual("side"u8) => Field.Side,
            4 when name.SequenceEqual("time"u8) => Field.Time,
            5 when name.SequenceEqual("price"u8) => Field.Price,
            5 when name.SequenceEqual("maker"u8) => Field.Maker,
            5 when name.SequenceEqual("buyer"u8) => Field.Buyer,
            6 when name.SequenceEqual("symbol"u8) => Field.Symbol,
            7 when name.SequenceEqual("orderId"u8) => Field.OrderId,
            8 when name.SequenceEqual("quoteQty"u8) => Field.QuoteQty,
            10 when name.SequenceEqual("commission"u8) => Field.Commission,
            11 when name.SequenceEqual("realizedPnl"u8) => Field.RealizedPnl,
            12 when name.SequenceEqual("positionSide"u8) => Field.PositionSide,
            15 when name.SequenceEqual("commissionAsset"u8) => Field.CommissionAsset,
            _ => Field.Unknown,
        };
    }

    private static string Name(Field field)
    {
        foreach (var (candidate, utf8Name) in Names)
        {
            if (candidate == field)
            {
                return Encoding.ASCII.GetString(utf8Name);
            }
        }

        return "unknown";
    }

    private static bool ReadPositiveLong(ref Utf8JsonReader reader, string name, ref string? error, out long value)
    {
        value = 0;
        if (reader.TokenType != JsonTokenType.Number)
        {
            BinanceJson.SkipValue(ref reader);
            error ??= name + ": expected a JSON number";
            return false;
        }

        if (!reader.TryGetInt64(out value))
        {
            error ??= name + ": not a 64-bit integer";
            return false;
        }

        if (value <= 0)
        {
            error ??= name + ": must be a positive integer";
            return false;
        }

        return true;
    }

    private static bool ReadBool(ref Utf8JsonReader reader, string name, ref string? error, out bool value)
    {
        switch (reader.TokenType)
        {
            case JsonTokenType.True:
                value = true;
                return true;
            case JsonTokenType.False:
                value = false;
                return true;
            default:
                BinanceJson.SkipValue(ref reader);
                error ??= name + ": expected true or false";
                value = false;
                return false;
        }
    }

    /// <summary>Reads a string value into a span, unescaping into <paramref name="scratch"/> when needed.</summary>
    private static bool ReadString(ref Utf8JsonReader reader, string name, Span<byte> scratch, ref string? error, out ReadOnlySpan<byte> value)
    {
        value = default;
        if (reader.TokenType != JsonTokenType.String)
        {
            BinanceJson.SkipValue(ref reader);
            error ??= name + ": expected a JSON string";
            return false;
        }

        if (!reader.ValueIsEscaped)
        {
            value = reader.ValueSpan;
            return true;
        }

        // Unescaped longer than the scratch buffer, it is garbage for every field read here.
        if (!TryCopy(ref reader, scratch, out var written))
        {
            error ??= name + ": value too long";
            return false;
        }

        value = scratch[..written];
        return true;
    }

    private static bool TryCopy(ref Utf8JsonReader reader, Span<byte> scratch, out int written)
    {
        try
        {
            written = reader.CopyString(scratch);
            return true;
        }
        catch (ArgumentException)
        {
            written = 0;
            return false;
        }
    }

    private static bool ReadDecimal(ref Utf8JsonReader reader, string name, Span<byte> scratch, ref string? error, out decimal value)
    {
        value = 0;
        if (!ReadString(ref reader, name, scratch, ref error, out var text))
        {
            return false;
        }

        var problem = StrictDecimal.TryParse(text, out value);
        if (problem is not null)
        {
            error ??= name + ": " + problem;
            return false;
        }

        return true;
    }

    private static bool IsDigit(byte b) => (uint)(b - '0') <= 9;

    private static bool IsAsciiAlphanumeric(ReadOnlySpan<byte> value)
    {
        foreach (var b in value)
        {
            if (!(IsDigit(b) || (uint)((b | 0x20) - 'a') <= 'z' - 'a'))
            {
                return false;
            }
        }

        return true;
    }

    private static int FirstNonWhitespace(ReadOnlySpan<byte> utf8)
    {
        for (var i = 0; i < utf8.Length; i++)
        {
            if (utf8[i] is not ((byte)' ' or (byte)'\t' or (byte)'\r' or (byte)'\n'))
            {
                return i;
            }
        }

        return -1;
    }

    private static string DescribeNonArray(ReadOnlySpan<byte> body)
    {
        switch (body[0])
        {
            case (byte)'{':
                var error = BinanceErrorBody.TryDescribe(body);
                return error is null
                    ? "response is a JSON object, expected a JSON array"
                    : "response is a Binance error object, expected a JSON array: " + error;
            case (byte)'<':
                return "response is HTML/XML, expected a JSON array";
            default:
                return "response is not a JSON array";
        }
    }

    private static string ShortJsonError(JsonException ex)
    {
        // JsonException messages carry only positions and the offending character, never request data.
        var message = ex.Message;
        var cut = message.IndexOf(" Path:", StringComparison.Ordinal);
        return BinanceJson.Truncate(cut > 0 ? message[..cut] : message, 160);
    }

    private static string Raw(ReadOnlySpan<byte> slice)
    {
        // Decode a little more than needed (multi-byte characters), never the whole of an oversized row.
        var take = Math.Min(slice.Length, RawMaxChars * 4);
        var text = Encoding.UTF8.GetString(slice[..take]);
        return text.Length > RawMaxChars || take < slice.Length ? text[..Math.Min(text.Length, RawMaxChars)] + "…" : text;
    }

    /// <summary>Reuses the string of the commission asset seen last (a page usually has one or two assets).</summary>
    private struct AssetCache
    {
        private string? _last;
        private string? _previous;

        public string Get(ReadOnlySpan<byte> ascii)
        {
            if (Matches(_last, ascii))
            {
                return _last!;
            }

            if (Matches(_previous, ascii))
            {
                (_last, _previous) = (_previous, _last);
                return _last!;
            }

            _previous = _last;
            _last = Encoding.ASCII.GetString(ascii);
            return _last;
        }

        private static bool Matches(string? cached, ReadOnlySpan<byte> ascii)
        {
            if (cached is null || cached.Length != ascii.Length)
            {
                return false;
            }

            for (var i = 0; i < ascii.Length; i++)
            {
                if (cached[i] != ascii[i])
                {
                    return false;
                }
            }

            return true;
        }
    }
}
