namespace Grinder.Tests;

public sealed class SmokeTests
{
    [Fact]
    public void Credentials_never_print_the_secret()
    {
        var credentials = new Grinder.Grains.Binance.BinanceCredentials("key-123", "secret-456");
        Assert.DoesNotContain("secret-456", credentials.ToString());
        Assert.DoesNotContain("key-123", credentials.ToString());
    }
}
