using Grinder.Silo.Storage;
using Npgsql;

namespace Grinder.Tests.Storage;

/// <summary>The silo's pool gets prepared statements and no session reset unless the operator's connection string says otherwise.</summary>
public sealed class PostgresConnectionDefaultsTests
{
    [Fact]
    public void A_plain_connection_string_gets_auto_prepare_and_no_reset_and_keeps_everything_else()
    {
        var tuned = new NpgsqlConnectionStringBuilder(PostgresConnectionDefaults.Apply("Host=db.internal;Port=5433;Username=grinder;Password=\"pa;ss=w0rd\";Database=grinder"));

        Assert.Equal(PostgresConnectionDefaults.MaxAutoPrepare, tuned.MaxAutoPrepare);
        Assert.True(tuned.NoResetOnClose);
        Assert.Equal("db.internal", tuned.Host);
        Assert.Equal(5433, tuned.Port);
        Assert.Equal("grinder", tuned.Username);
        Assert.Equal("pa;ss=w0rd", tuned.Password);
        Assert.Equal("grinder", tuned.Database);
    }

    [Theory]
    [InlineData("Max Auto Prepare=0", 0, true)]
    [InlineData("MaxAutoPrepare=5", 5, true)]
    [InlineData("max auto prepare=7;No Reset On Close=false", 7, false)]
    [InlineData("NoResetOnClose=false", PostgresConnectionDefaults.MaxAutoPrepare, false)]
    public void What_the_operator_sets_wins_under_any_spelling_of_the_keyword(string options, int maxAutoPrepare, bool noResetOnClose)
    {
        var tuned = new NpgsqlConnectionStringBuilder(PostgresConnectionDefaults.Apply("Host=localhost;Username=grinder;Database=grinder;" + options));

        Assert.Equal(maxAutoPrepare, tuned.MaxAutoPrepare);
        Assert.Equal(noResetOnClose, tuned.NoResetOnClose);
    }

    [Fact]
    public void An_invalid_connection_string_is_refused_without_echoing_values()
    {
        var error = Assert.ThrowsAny<ArgumentException>(() => PostgresConnectionDefaults.Apply("Host=localhost;Pasword=s3cr3t-value"));

        Assert.Contains("pasword", error.Message, StringComparison.OrdinalIgnoreCase);
        Assert.DoesNotContain("s3cr3t-value", error.Message, StringComparison.Ordinal);
    }
}
