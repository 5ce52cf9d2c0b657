using Sync.Connectors.Postgres.Cdc;

namespace Sync.Connectors.Tests;

/// <summary>Replication slot and publication names: one per job, within PostgreSQL's 63 bytes (issue 14, item 7).</summary>
public sealed class CdcSlotNameTests
{
    [Fact]
    public void A_plain_job_name_keeps_the_name_existing_slots_have()
    {
        Assert.Equal("sync_orders", CdcSlot.NameOf("orders"));
        Assert.Equal("sync_orders_v2", CdcSlot.NameOf("orders_v2"));
    }

    [Theory]
    [InlineData("a-b", "a_b")]
    [InlineData("a__b", "a_b")]
    [InlineData("a-b", "a__b")]
    [InlineData("orders-eu", "orders_eu")]
    public void Jobs_whose_names_differ_only_in_dash_and_underscore_get_different_slots(string one, string other)
    {
        Assert.NotEqual(CdcSlot.NameOf(one), CdcSlot.NameOf(other));
    }

    [Fact]
    public void Names_past_the_limit_are_cut_and_still_distinct()
    {
        var first = "a" + new string('x', 62);
        var second = "a" + new string('x', 61) + "y";

        Assert.Equal(63, first.Length);
        Assert.True(CdcSlot.NameOf(first).Length <= 63, CdcSlot.NameOf(first));
        Assert.True(CdcSlot.NameOf(second).Length <= 63, CdcSlot.NameOf(second));
        Assert.NotEqual(CdcSlot.NameOf(first), CdcSlot.NameOf(second));
        Assert.Matches("^[a-z0-9_]+$", CdcSlot.NameOf("a-" + new string('b', 61)));
    }
}
