using System.Diagnostics;
using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using System.Text.RegularExpressions;
using Grinder.FakeBinance;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;

namespace Grinder.Tests.FakeBinance;

/// <summary>The executable: command line bound to validated options, accounts, the generator, and the startup line.</summary>
[Collection(FakeBinanceCollection.Name)]
public sealed partial class FakeBinanceHostTests
{
    [Fact]
    public async Task The_command_line_starts_an_exchange_that_generates_fills_for_every_account_and_symbol()
    {
        using var host = FakeBinanceHost.CreateBuilder(
        [
            "--urls", "http://127.0.0.1:0",
            "--account", "KEY1:SECRET1",
            "--account=KEY2:SECRET2",
            "--symbols", "BTCUSDT, ETHUSDT",
            "--generate-every", "00:00:00.020",
            "--generate-count", "2",
            "--initial-trades", "5",
            "--initial-history", "2.00:00:00",
        ]).Build();
        await host.StartAsync();
        var exchange = host.Services.GetRequiredService<FakeExchangeService>().Exchange!;
        using var http = new HttpClient { BaseAddress = exchange.BaseUrl };

        await exchange.WaitForValidTradeCountAsync("KEY2", 5 + 5 + 4, TimeSpan.FromSeconds(10));
        var rows = await Signed.RowsAsync(await Signed.UserTradesAsync(http, new TestAccount("KEY1", "SECRET1"), "symbol=ETHUSDT&fromId=1", Signed.NowMs(exchange)));
        var oldest = exchange.Trades("KEY1", "BTCUSDT")[0].TimeMs;
        await host.StopAsync();

        Assert.True(rows.GetArrayLength() >= 5);
        Assert.True(oldest < Signed.NowMs(exchange) - TimeSpan.FromDays(1).TotalMilliseconds, "the initial history reaches back");
        Assert.Null(host.Services.GetRequiredService<FakeExchangeService>().Exchange);
    }

    [Fact]
    public async Task The_executable_serves_the_user_data_stream_with_its_configured_key_validity()
    {
        using var host = FakeBinanceHost.CreateBuilder(
        [
            "--urls", "http://127.0.0.1:0",
            "--account", "STREAMKEY:STREAMSECRET",
            "--generate-every", "0",
            "--FakeBinance:ListenKeyValidity", "00:00:00.300",
        ]).Build();
        await host.StartAsync();
        var exchange = host.Services.GetRequiredService<FakeExchangeService>().Exchange!;
        using var http = new HttpClient { BaseAddress = exchange.BaseUrl };

        var key = await ListenKeys.PostAsync(http, "STREAMKEY");
        await using var client = await StreamClient.ConnectAsync(ListenKeys.SingleUrl(exchange, key));
        var expired = await client.ReceiveAsync(TimeSpan.FromSeconds(10));
        await host.StopAsync();

        Assert.Equal("listenKeyExpired", expired!.Value.GetProperty("e").GetString());
    }

    [Theory]
    [InlineData("--account", "NOSECRET", "FakeBinance:Accounts:0")]
    [InlineData("--symbols", "btc-usdt", "FakeBinance:Symbols")]
    [InlineData("--generate-every", "-00:00:01", "FakeBinance:GenerateEvery")]
    [InlineData("--generate-count", "0", "FakeBinance:GenerateCount")]
    [InlineData("--urls", "not a url", "FakeBinance:Url")]
    [InlineData("--FakeBinance:RandomFaults:ServerError", "1.5", "FakeBinance:RandomFaults:ServerError")]
    [InlineData("--FakeBinance:ListenKeyValidity", "00:00:00", "FakeBinance:ListenKeyValidity")]
    [InlineData("--FakeBinance:StreamMaxConnectionLifetime", "-00:00:01", "FakeBinance:StreamMaxConnectionLifetime")]
    public async Task Invalid_settings_stop_the_start_with_a_message_naming_the_setting(string name, string value, string setting)
    {
        using var host = FakeBinanceHost.CreateBuilder(["--urls", "http://127.0.0.1:0", name, value]).Build();

        var error = await Assert.ThrowsAsync<OptionsValidationException>(() => host.StartAsync());

        Assert.Contains(setting, error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task An_account_without_secret_is_reported_without_echoing_the_value()
    {
        using var host = FakeBinanceHost.CreateBuilder(["--urls", "http://127.0.0.1:0", "--account", "SECRETISH-VALUE"]).Build();

        var error = await Assert.ThrowsAsync<OptionsValidationException>(() => host.StartAsync());

        Assert.DoesNotContain("SECRETISH-VALUE", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task An_unknown_setting_is_refused()
    {
        using var host = FakeBinanceHost.CreateBuilder(["--urls", "http://127.0.0.1:0", "--FakeBinance:GenerateEvry", "00:00:01"]).Build();

        var error = await Assert.ThrowsAsync<InvalidOperationException>(() => host.StartAsync());

        Assert.Contains("GenerateEvry", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task The_executable_logs_its_url_on_start_and_serves_it()
    {
        using var process = StartExecutable("--urls", "http://127.0.0.1:0", "--account", "K:S", "--symbols", "BTCUSDT", "--generate-every", "00:00:00.100");
        try
        {
            var url = await ReadListeningUrlAsync(process, TimeSpan.FromSeconds(30));
            using var http = new HttpClient { BaseAddress = url };

            var time = await http.GetAsync("fapi/v1/time");
            var status = await http.GetFromJsonAsync<JsonElement>("_fake/status");

            Assert.Equal(HttpStatusCode.OK, time.StatusCode);
            Assert.Equal(url.ToString(), status.GetProperty("baseUrl").GetString());
        }
        finally
        {
            process.Kill(entireProcessTree: true);
            await process.WaitForExitAsync();
        }
    }

    [Fact]
    public async Task The_executable_exits_with_code_2_and_one_line_on_invalid_configuration()
    {
        using var process = StartExecutable("--urls", "http://127.0.0.1:0", "--account", "ONLYKEY");
        var stderr = process.StandardError.ReadToEndAsync();
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));

        await process.WaitForExitAsync(timeout.Token);

        Assert.Equal(2, process.ExitCode);
        var line = Assert.Single((await stderr).Split('\n', StringSplitOptions.RemoveEmptyEntries));
        Assert.Contains("FakeBinance:Accounts:0 (--account) must have the form KEY:SECRET.", line, StringComparison.Ordinal);
    }

    private static Process StartExecutable(params string[] args)
    {
        var start = new ProcessStartInfo("dotnet")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        start.ArgumentList.Add("exec");
        start.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, "Grinder.FakeBinance.dll"));
        foreach (var arg in args)
        {
            start.ArgumentList.Add(arg);
        }

        start.Environment["Logging__Console__FormatterName"] = "simple";
        return Process.Start(start) ?? throw new InvalidOperationException("could not start the fake exchange executable");
    }

    private static async Task<Uri> ReadListeningUrlAsync(Process process, TimeSpan timeout)
    {
        using var deadline = new CancellationTokenSource(timeout);
        while (await process.StandardOutput.ReadLineAsync(deadline.Token) is { } line)
        {
            if (ListeningLine().Match(line) is { Success: true } match)
            {
                return new Uri(match.Groups[1].Value);
            }
        }

        throw new InvalidOperationException($"the executable ended without a listening line (exit code {process.ExitCode})");
    }

    [GeneratedRegex(@"Fake Binance exchange listening on (http://\S+)")]
    private static partial Regex ListeningLine();
}
