using Sync.Connectors.Postgres;
using Sync.Contracts;

namespace Sync.Connectors.Tests;

public sealed class KeyRangePlanTests
{
    [Fact]
    public void Keys_are_cut_into_ranges_of_range_size_open_at_both_ends()
    {
        var ranges = KeyRangePlan.Plan(1, 1_000, 300, upper: "42");

        Assert.Equal(
            [new KeyRange(0, null, "301", "42"), new KeyRange(1, "301", "601", "42"), new KeyRange(2, "601", "901", "42"), new KeyRange(3, "901", null, "42")],
            ranges);
    }

    [Fact]
    public void Every_key_falls_in_exactly_one_range()
    {
        var ranges = KeyRangePlan.Plan(-5, 1_234, 100, upper: null);

        foreach (var key in new long[] { long.MinValue, -6, -5, 0, 94, 95, 96, 1_234, 1_235, long.MaxValue })
        {
            Assert.Single(ranges, r => (r.From is null || key >= long.Parse(r.From)) && (r.To is null || key < long.Parse(r.To)));
        }
    }

    [Fact]
    public void A_table_smaller_than_one_range_is_one_range_of_every_key()
    {
        Assert.Equal([new KeyRange(0, null, null, null)], KeyRangePlan.Plan(7, 7, 1_000_000, upper: null));
    }

    [Fact]
    public void A_key_span_past_the_range_limit_gets_wider_ranges_not_more()
    {
        var ranges = KeyRangePlan.Plan(long.MinValue, long.MaxValue, 10_000, upper: null);

        Assert.Equal(KeyRangePlan.MaxRanges, ranges.Count);
        Assert.Equal(Enumerable.Range(0, KeyRangePlan.MaxRanges), ranges.Select(r => r.Index));
        Assert.True(ranges.Zip(ranges.Skip(1)).All(p => p.First.To == p.Second.From));
    }
}
