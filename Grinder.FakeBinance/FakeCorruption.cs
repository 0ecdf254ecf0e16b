namespace Grinder.FakeBinance;

/// <summary>How a row added by <see cref="FakeExchange.AddCorruptRow"/> fails validation. Every kind keeps a readable id and
/// time, so a client that moves its read position to the id of a rejected row is caught.</summary>
public enum FakeCorruption
{
    /// <summary><c>"commission":"NaN"</c>: not a decimal.</summary>
    NaNCommission,

    /// <summary>The <c>price</c> field is absent.</summary>
    MissingPrice,

    /// <summary><c>"qty"</c> is negative.</summary>
    NegativeQty,
}
