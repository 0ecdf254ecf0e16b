using Grinder.Grains.Binance;

namespace Grinder.Tests.Binance;

public sealed class BinanceSignerTests
{
    // Binance USD-M futures "General Info", SIGNED Endpoint Examples, HMAC Keys, Example 1 "As a query string"
    // (https://developers.binance.com/docs/derivatives/usds-margined-futures/general-info). The documentation's
    // demonstration secret and its `echo -n ... | openssl dgst -sha256 -hmac` output.
    private const string DocSecret = "2b5eb11e18796d12d88f13dc27dbbd02c2cc51ff7059765ed9821957d82bb4d9";
    private const string DocQuery = "symbol=BTCUSDT&side=BUY&type=LIMIT&quantity=1&price=9000&timeInForce=GTC&recvWindow=5000&timestamp=1591702613943";
    private const string DocSignature = "3c661234138461fcc7a7d8746c6558c9842d4e10870d2ecbedf7777cad694af9";

    [Fact]
    public void Signature_matches_the_binance_documentation_example()
    {
        Assert.Equal(DocSignature, BinanceSigner.Sign(DocSecret, DocQuery));
    }

    [Fact]
    public void SignQuery_appends_recvWindow_and_timestamp_then_the_signature_last()
    {
        var (query, signature) = BinanceSigner.SignQuery(
            "symbol=BTCUSDT&side=BUY&type=LIMIT&quantity=1&price=9000&timeInForce=GTC", DocSecret, 1591702613943, TimeSpan.FromSeconds(5));

        Assert.Equal(DocQuery + "&signature=" + DocSignature, query);
        Assert.Equal(DocSignature, signature);
    }

    [Fact]
    public void Signature_is_lowercase_hex_of_32_bytes()
    {
        var signature = BinanceSigner.Sign("secret", "symbol=ETHUSDT&fromId=1&limit=1000&recvWindow=5000&timestamp=1");

        Assert.Matches("^[0-9a-f]{64}$", signature);
    }
}
