using Sync.Connectors.Postgres;

namespace Sync.Connectors.Tests;

/// <summary>Whether a batch repeats a key, read from its tuples' key bytes (the merge without DISTINCT ON needs none repeated).</summary>
public sealed class BatchKeysTests
{
    [Fact]
    public void Distinct_keys_are_distinct()
    {
        var batch = SampleBatch.Of(Row("1"), Row("2"), Row("-3"), Row("9223372036854775807"));

        Assert.True(BatchKeys.AreDistinct(batch.Rows, batch.Columns.Count, keyIndex: 0));
    }

    [Fact]
    public void A_key_repeated_anywhere_in_the_batch_is_found()
    {
        var batch = SampleBatch.Of(Row("7"), Row("2"), Row("5"), Row("3"), Row("7"));

        Assert.False(BatchKeys.AreDistinct(batch.Rows, batch.Columns.Count, keyIndex: 0));
    }

    [Fact]
    public void A_null_key_sends_the_batch_to_the_merge_that_keeps_it_apart()
    {
        var batch = SampleBatch.Of(Row("1"), Row(null));

        Assert.False(BatchKeys.AreDistinct(batch.Rows, batch.Columns.Count, keyIndex: 0));
    }

    [Theory]
    [InlineData(20u, true)]
    [InlineData(23u, true)]
    [InlineData(2950u, true)]
    [InlineData(1184u, true)]
    [InlineData(1700u, false)]
    [InlineData(701u, false)]
    [InlineData(25u, false)]
    [InlineData(1042u, false)]
    public void Only_types_whose_equal_values_have_one_binary_form_qualify(uint typeOid, bool qualifies) =>
        Assert.Equal(qualifies, BatchKeys.HasExactBinaryEquality(typeOid));

    private static string?[] Row(string? id) => [id, "2026-01-01T00:00:00+00:00", "1", "note", null];
}
