using System.Net;
using Grinder.Grains;
using Grinder.Grains.Placement;

namespace Grinder.Tests.Placement;

/// <summary>The migrate-or-stay rule, without a cluster.</summary>
public sealed class AccountMoveTests
{
    private static readonly SiloAddress Here = SiloAddress.New(IPAddress.Loopback, 11111, 1);
    private static readonly SiloAddress Owner = SiloAddress.New(IPAddress.Loopback, 11112, 1);

    private static Dictionary<string, SymbolCursor> Positions(long btcId = 10) => new(StringComparer.Ordinal)
    {
        ["BTCUSDT"] = new SymbolCursor(btcId, 1_000, null, false, ReadHighWaterId: btcId),
        ["ETHUSDT"] = SymbolCursor.Fresh(500),
    };

    [Fact]
    public void Moves_to_the_owner_when_the_stored_state_is_where_the_activation_stands()
    {
        Assert.Equal(Owner, AccountMove.Target(saveFailed: false, Positions(), Positions(), Owner, Here));
    }

    [Fact]
    public void Stays_on_the_owner()
    {
        Assert.Null(AccountMove.Target(saveFailed: false, Positions(), Positions(), Here, Here));
    }

    [Fact]
    public void Stays_while_no_silo_is_known_to_be_active()
    {
        Assert.Null(AccountMove.Target(saveFailed: false, Positions(), Positions(), owner: null, Here));
    }

    [Fact]
    public void Stays_while_saves_fail()
    {
        Assert.Null(AccountMove.Target(saveFailed: true, Positions(), Positions(), Owner, Here));
    }

    [Fact]
    public void Stays_before_any_state_was_read()
    {
        Assert.Null(AccountMove.Target(saveFailed: false, stored: null, Positions(), Owner, Here));
    }

    [Fact]
    public void Stays_while_a_stored_position_differs_from_the_one_it_reads_from()
    {
        // A position moved ahead by hand: the monotonic rule keeps it stored, the activation reads on from its own.
        Assert.Null(AccountMove.Target(saveFailed: false, stored: Positions(btcId: 99), Positions(btcId: 10), Owner, Here));
    }

    [Fact]
    public void Stays_while_a_position_in_memory_was_never_stored()
    {
        var working = Positions();
        working["SOLUSDT"] = SymbolCursor.Fresh(700);

        Assert.Null(AccountMove.Target(saveFailed: false, Positions(), working, Owner, Here));
    }
}
