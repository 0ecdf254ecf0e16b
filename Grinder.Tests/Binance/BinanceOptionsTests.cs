using Grinder.Grains.Binance;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace Grinder.Tests.Binance;

public sealed class BinanceOptionsTests
{
    private static ServiceProvider Build(Dictionary<string, string?> settings)
    {
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(settings).Build();
        var services = new ServiceCollection();
        services.AddSingleton<IConfiguration>(configuration);
        services.AddLogging();
        services.AddGrinderBinanceClient();
        return services.BuildServiceProvider(new ServiceProviderOptions { ValidateScopes = true, ValidateOnBuild = true });
    }

    [Fact]
    public void Defaults_follow_binance_limits()
    {
        using var provider = Build([]);

        var options = provider.GetRequiredService<IOptions<BinanceOptions>>().Value;

        Assert.Equal(new Uri("https://fapi.binance.com"), options.BaseUrl);
        Assert.Equal(TimeSpan.FromSeconds(5), options.RecvWindow);
        Assert.Equal(1000, options.PageLimit);
        Assert.Equal(2400, options.WeightLimitPerMinute);
        Assert.Equal(TimeSpan.FromDays(7), options.BootstrapWindow);
    }

    [Fact]
    public void Settings_bind_from_the_grinder_binance_section()
    {
        using var provider = Build(new()
        {
            ["Grinder:Binance:BaseUrl"] = "http://127.0.0.1:5055",
            ["Grinder:Binance:RequestTimeout"] = "00:00:03",
            ["Grinder:Binance:PageLimit"] = "500",
            ["Grinder:Binance:WeightShare"] = "0.25",
        });

        var options = provider.GetRequiredService<IOptions<BinanceOptions>>().Value;

        Assert.Equal(new Uri("http://127.0.0.1:5055"), options.BaseUrl);
        Assert.Equal(TimeSpan.FromSeconds(3), options.RequestTimeout);
        Assert.Equal(500, options.PageLimit);
        Assert.Equal(0.25, options.WeightShare);
    }

    [Theory]
    [InlineData("BaseUrl", "/relative/path", "Grinder:Binance:BaseUrl must be an absolute http(s) URL.")]
    [InlineData("BaseUrl", "ftp://example.com", "Grinder:Binance:BaseUrl must be an absolute http(s) URL.")]
    [InlineData("RecvWindow", "00:00:00", "Grinder:Binance:RecvWindow must be positive.")]
    [InlineData("RecvWindow", "00:02:00", "Grinder:Binance:RecvWindow must be at most 00:01:00 (Binance limit).")]
    [InlineData("RequestTimeout", "-00:00:01", "Grinder:Binance:RequestTimeout must be positive.")]
    [InlineData("PageLimit", "0", "Grinder:Binance:PageLimit must be between 1 and 1000.")]
    [InlineData("PageLimit", "1001", "Grinder:Binance:PageLimit must be between 1 and 1000.")]
    [InlineData("MaxPagesPerPoll", "0", "Grinder:Binance:MaxPagesPerPoll must be positive.")]
    [InlineData("WeightLimitPerMinute", "0", "Grinder:Binance:WeightLimitPerMinute must be positive.")]
    [InlineData("WeightShare", "0", "Grinder:Binance:WeightShare must be in (0, 1].")]
    [InlineData("WeightShare", "1.5", "Grinder:Binance:WeightShare must be in (0, 1].")]
    [InlineData("DefaultRetryAfter", "00:00:00", "Grinder:Binance:DefaultRetryAfter must be positive.")]
    [InlineData("BootstrapWindow", "8.00:00:00", "Grinder:Binance:BootstrapWindow must be at most 7.00:00:00 (Binance limit of startTime..endTime).")]
    [InlineData("BootstrapSafetyOverlap", "-00:00:01", "Grinder:Binance:BootstrapSafetyOverlap must be zero or positive and shorter than BootstrapWindow.")]
    [InlineData("MaxResponseBytes", "10", "Grinder:Binance:MaxResponseBytes must be at least 1024.")]
    public void Invalid_settings_fail_with_a_line_naming_the_setting(string key, string value, string expected)
    {
        using var provider = Build(new() { ["Grinder:Binance:" + key] = value });

        var error = Assert.Throws<OptionsValidationException>(() => provider.GetRequiredService<IOptions<BinanceOptions>>().Value);

        Assert.Equal(expected, Assert.Single(error.Failures));
    }

    [Fact]
    public void Invalid_settings_stop_the_host_at_start()
    {
        using var provider = Build(new() { ["Grinder:Binance:WeightShare"] = "0" });

        // What the generic host does on start: run every ValidateOnStart registration.
        var validator = provider.GetRequiredService<IStartupValidator>();

        var error = Assert.Throws<OptionsValidationException>(validator.Validate);
        Assert.Contains("WeightShare", error.Message);
    }

    [Fact]
    public void One_governor_and_one_clock_per_silo_shared_by_all_fetchers()
    {
        using var provider = Build([]);

        var first = provider.GetRequiredService<IUserTradesFetcher>();
        var second = provider.GetRequiredService<IUserTradesFetcher>();

        Assert.IsType<UserTradesFetcher>(first);
        Assert.Same(provider.GetRequiredService<BinanceWeightGovernor>(), provider.GetRequiredService<BinanceWeightGovernor>());
        Assert.Same(provider.GetRequiredService<BinanceServerClock>(), provider.GetRequiredService<BinanceServerClock>());
        Assert.NotSame(first, second);
    }
}
