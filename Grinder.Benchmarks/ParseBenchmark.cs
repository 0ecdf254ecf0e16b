using System.Diagnostics;
using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization;
using Grinder.Grains.Binance;

namespace Grinder.Benchmarks;

/// <summary>
/// Rows parsed per second on 1,000-row userTrades pages: <see cref="TradeRowParser"/> (parse + validate + decimals)
/// against plain System.Text.Json deserialization of the same bytes into a DTO list, in the same process and run.
/// </summary>
internal static class ParseBenchmark
{
    private const int RowsPerPage = 1000;
    private const int Pages = 16;
    private const int Rounds = 9;
    private static readonly TimeSpan RoundTarget = TimeSpan.FromMilliseconds(400);

    public static int Run()
    {
        var pages = Enumerable.Range(0, Pages).Select(p => BuildPage(p)).ToArray();
        var contenders = new (string Name, Func<byte[], int> Parse)[]
        {
            ("TradeRowParser (Utf8JsonReader, validated, decimal)", ParseWithGrinder),
            ("JsonSerializer.Deserialize<List<Dto>> (strings)", ParseWithStjStrings),
            ("JsonSerializer.Deserialize<List<Dto>> (decimals from strings)", ParseWithStjDecimals),
        };

        // Same answer first: every contender must see all rows.
        foreach (var (name, parse) in contenders)
        {
            var rows = parse(pages[0]);
            if (rows != RowsPerPage)
            {
                Console.Error.WriteLine($"{name} read {rows} rows, expected {RowsPerPage}");
                return 1;
            }
        }

        // Warm-up: tiered JIT settles (several thousand calls each).
        foreach (var (_, parse) in contenders)
        {
            var until = Stopwatch.GetTimestamp() + Stopwatch.Frequency;
            for (var i = 0; Stopwatch.GetTimestamp() < until; i++)
            {
                parse(pages[i % Pages]);
            }
        }

        var iterations = contenders.Select(c => Calibrate(c.Parse, pages)).ToArray();
        var samples = contenders.Select(_ => new List<double>()).ToArray();
        var allocated = new double[contenders.Length];

        // Rounds interleave the contenders so drift of the machine hits all of them alike.
        for (var round = 0; round < Rounds; round++)
        {
            for (var c = 0; c < contenders.Length; c++)
            {
                var before = GC.GetAllocatedBytesForCurrentThread();
                var start = Stopwatch.GetTimestamp();
                var rows = 0L;
                for (var i = 0; i < iterations[c]; i++)
                {
                    rows += contenders[c].Parse(pages[i % Pages]);
                }

                var elapsed = Stopwatch.GetElapsedTime(start);
                allocated[c] = (GC.GetAllocatedBytesForCurrentThread() - before) / (double)rows;
                samples[c].Add(rows / elapsed.TotalSeconds);
            }
        }

        var medians = samples.Select(Median).ToArray();
        Console.WriteLine($"userTrades page parsing: {RowsPerPage}-row pages ({pages[0].Length / 1024} KiB each), {Rounds} rounds, median rows/s");
        for (var c = 0; c < contenders.Length; c++)
        {
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"  {contenders[c].Name,-64} {medians[c],14:N0} rows/s  {allocated[c],7:N0} B/row  (min {samples[c].Min():N0}, max {samples[c].Max():N0})"));
        }

        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"  time per row, TradeRowParser / plain STJ (strings): {medians[1] / medians[0]:N2}x  (goal: at most 2x)"));
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"  time per row, TradeRowParser / STJ (decimals):      {medians[2] / medians[0]:N2}x"));
        return 0;
    }

    private static int ParseWithGrinder(byte[] page) => TradeRowParser.ParsePage(page, "BTCUSDT").Trades.Count;

    private static int ParseWithStjStrings(byte[] page) => JsonSerializer.Deserialize<List<StringTradeDto>>(page, Web)!.Count;

    private static int ParseWithStjDecimals(byte[] page) => JsonSerializer.Deserialize<List<DecimalTradeDto>>(page, WebNumbersFromStrings)!.Count;

    private static readonly JsonSerializerOptions Web = new(JsonSerializerDefaults.Web);

    private static readonly JsonSerializerOptions WebNumbersFromStrings = new(JsonSerializerDefaults.Web)
    {
        NumberHandling = JsonNumberHandling.AllowReadingFromString,
    };

    private static int Calibrate(Func<byte[], int> parse, byte[][] pages)
    {
        var iterations = 4;
        while (true)
        {
            var start = Stopwatch.GetTimestamp();
            for (var i = 0; i < iterations; i++)
            {
                parse(pages[i % pages.Length]);
            }

            if (Stopwatch.GetElapsedTime(start) >= RoundTarget / 4)
            {
                return iterations * 4;
            }

            iterations *= 2;
        }
    }

    private static double Median(List<double> values)
    {
        var sorted = values.Order().ToArray();
        return sorted[sorted.Length / 2];
    }

    /// <summary>A page shaped like Binance's "Account Trade List" response, with varied, realistic values.</summary>
    private static byte[] BuildPage(int seed)
    {
        var random = new Random(seed);
        var builder = new StringBuilder(RowsPerPage * 330);
        builder.Append('[');
        var id = 1_000_001L + (seed * RowsPerPage);
        var time = 1_760_000_000_000L + (seed * 3_600_000L);
        for (var i = 0; i < RowsPerPage; i++, id++)
        {
            var price = Math.Round(60000m + (decimal)((random.NextDouble() - 0.5) * 2000), 1);
            var qty = Math.Round(0.001m + (decimal)(random.NextDouble() * 0.5), 3);
            var quote = price * qty;
            var maker = random.Next(2) == 0;
            var commission = Math.Round(quote * (maker ? -0.00005m : 0.0005m), 8);
            var buy = random.Next(2) == 0;
            time += random.Next(1, 2000);
            if (i > 0)
            {
                builder.Append(',');
            }

            builder.Append(CultureInfo.InvariantCulture,
                $"{{\"symbol\":\"BTCUSDT\",\"id\":{id},\"orderId\":{id * 7},\"side\":\"{(buy ? "BUY" : "SELL")}\",\"price\":\"{price}\",\"qty\":\"{qty}\",\"realizedPnl\":\"{Math.Round((decimal)(random.NextDouble() - 0.5) * 3, 8)}\",\"marginAsset\":\"USDT\",\"quoteQty\":\"{quote}\",\"commission\":\"{commission}\",\"commissionAsset\":\"USDT\",\"time\":{time},\"positionSide\":\"BOTH\",\"buyer\":{(buy ? "true" : "false")},\"maker\":{(maker ? "true" : "false")}}}");
        }

        builder.Append(']');
        return Encoding.UTF8.GetBytes(builder.ToString());
    }

    private sealed class StringTradeDto
    {
        public string? Symbol { get; set; }
        public long Id { get; set; }
        public long OrderId { get; set; }
        public string? Side { get; set; }
        public string? Price { get; set; }
        public string? Qty { get; set; }
        public string? RealizedPnl { get; set; }
        public string? QuoteQty { get; set; }
        public string? Commission { get; set; }
        public string? CommissionAsset { get; set; }
        public long Time { get; set; }
        public string? PositionSide { get; set; }
        public bool Buyer { get; set; }
        public bool Maker { get; set; }
    }

    private sealed class DecimalTradeDto
    {
        public string? Symbol { get; set; }
        public long Id { get; set; }
        public long OrderId { get; set; }
        public string? Side { get; set; }
        public decimal Price { get; set; }
        public decimal Qty { get; set; }
        public decimal RealizedPnl { get; set; }
        public decimal QuoteQty { get; set; }
        public decimal Commission { get; set; }
        public string? CommissionAsset { get; set; }
        public long Time { get; set; }
        public string? PositionSide { get; set; }
        public bool Buyer { get; set; }
        public bool Maker { get; set; }
    }
}
