using Sync.Connectors.Postgres;
using Sync.Contracts;
using Sync.Contracts.Jobs;

namespace Sync.Connectors.Tests;

public sealed class MergePlanTests
{
    private static readonly TableColumn[] Table =
    [
        new("id", 20, "bigint", true),
        new("status", 25, "text", true),
        new("total", 1700, "numeric", false),
        new("updated_at", 1184, "timestamp with time zone", true),
    ];

    private static readonly BatchColumn[] Batch = [new("id", 23), new("status", 25), new("total", 1700), new("updated_at", 1184)];

    [Fact]
    public void Latest_wins_updates_only_rows_whose_cursor_is_newer()
    {
        var plan = MergePlan.Create(Destination(ConflictStrategy.LatestWins), "updated_at", Batch, Table);

        Assert.Contains("ON CONFLICT (\"id\") DO UPDATE SET \"status\" = EXCLUDED.\"status\"", plan.Merge, StringComparison.Ordinal);
        Assert.Contains("WHERE d.\"updated_at\" < EXCLUDED.\"updated_at\"", plan.Merge, StringComparison.Ordinal);
    }

    [Fact]
    public void Source_wins_rewrites_only_rows_that_differ()
    {
        var plan = MergePlan.Create(Destination(ConflictStrategy.SourceWins), "updated_at", Batch, Table);

        Assert.Contains("IS DISTINCT FROM", plan.Merge, StringComparison.Ordinal);
        Assert.DoesNotContain("d.\"updated_at\" <", plan.Merge, StringComparison.Ordinal);
    }

    [Fact]
    public void Source_wins_compares_a_json_column_as_text_as_json_has_no_equality_operator()
    {
        TableColumn[] table = [.. Table, new("extra", 114, "json", false)];
        BatchColumn[] batch = [.. Batch, new("extra", 114)];

        var plan = MergePlan.Create(Destination(ConflictStrategy.SourceWins), "updated_at", batch, table);

        Assert.Contains("(d.\"extra\")::text) IS DISTINCT FROM", plan.Merge, StringComparison.Ordinal);
        Assert.Contains("(EXCLUDED.\"extra\")::text)", plan.Merge, StringComparison.Ordinal);
        Assert.Contains("\"extra\" = EXCLUDED.\"extra\"", plan.Merge, StringComparison.Ordinal);
    }

    [Fact]
    public void Merge_keeps_the_destination_value_where_the_source_field_is_null()
    {
        var plan = MergePlan.Create(Destination(ConflictStrategy.Merge), "updated_at", Batch, Table);

        Assert.Contains("\"status\" = COALESCE(EXCLUDED.\"status\", d.\"status\")", plan.Merge, StringComparison.Ordinal);
        Assert.Contains("IS DISTINCT FROM (COALESCE(EXCLUDED.\"status\", d.\"status\")", plan.Merge, StringComparison.Ordinal);
        Assert.DoesNotContain("\"id\" = COALESCE", plan.Merge, StringComparison.Ordinal);
    }

    [Fact]
    public void Destination_wins_never_updates()
    {
        var plan = MergePlan.Create(Destination(ConflictStrategy.DestinationWins), "updated_at", Batch, Table);

        Assert.Contains("ON CONFLICT (\"id\") DO NOTHING", plan.Merge, StringComparison.Ordinal);
    }

    [Fact]
    public void A_batch_type_that_differs_from_the_destination_is_cast_to_the_destination_type_without_modifier()
    {
        var plan = MergePlan.Create(Destination(ConflictStrategy.LatestWins), "updated_at", Batch, Table);

        // int4 in the batch, bigint in the table; no typmod, so a too-long value still fails the insert.
        Assert.Contains("CAST(s.\"id\" AS bigint)", plan.Merge, StringComparison.Ordinal);
        Assert.Contains("\"id\" integer", plan.CreateStaging, StringComparison.Ordinal);
        Assert.StartsWith("COPY \"sync_stage_", plan.Copy, StringComparison.Ordinal);
    }

    [Fact]
    public void A_column_the_destination_lacks_is_refused_with_its_name()
    {
        BatchColumn[] batch = [.. Batch, new("discount", 1700)];

        var error = Assert.Throws<DestinationSchemaException>(() => MergePlan.Create(Destination(ConflictStrategy.LatestWins), "updated_at", batch, Table));

        Assert.Contains("\"discount\"", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_generated_destination_column_is_staged_but_never_written()
    {
        TableColumn[] table = [.. Table.Where(c => c.Name != "total"), new("total", 1700, "numeric", false, Generated: true)];

        var plan = MergePlan.Create(Destination(ConflictStrategy.SourceWins), "updated_at", Batch, table);

        Assert.Contains("\"total\" numeric", plan.CreateStaging, StringComparison.Ordinal);
        Assert.DoesNotContain("\"total\"", plan.Merge, StringComparison.Ordinal);
    }

    [Fact]
    public void A_batch_without_a_repeated_key_has_a_merge_without_the_DISTINCT_ON_that_keeps_a_repeated_keys_last_row()
    {
        var table = Table.Select(c => c.Name == "id" ? c with { TypeOid = 23, TypeName = "integer" } : c).ToArray();

        var plan = MergePlan.Create(Destination(ConflictStrategy.LatestWins), "updated_at", Batch, table);

        Assert.Contains("DISTINCT ON", plan.Merge, StringComparison.Ordinal);
        Assert.NotNull(plan.MergeOfDistinctKeys);
        Assert.DoesNotContain("DISTINCT ON", plan.MergeOfDistinctKeys, StringComparison.Ordinal);
        // Still in batch order (a secondary unique index is checked row by row), with the same conflict handling and counts.
        Assert.Contains("ORDER BY s.\"sync ordinal\"", plan.MergeOfDistinctKeys, StringComparison.Ordinal);
        Assert.Equal(plan.Merge[plan.Merge.IndexOf("ORDER BY s.\"sync ordinal\"\n", StringComparison.Ordinal)..], plan.MergeOfDistinctKeys[plan.MergeOfDistinctKeys.IndexOf("ORDER BY s.\"sync ordinal\"", StringComparison.Ordinal)..]);
    }

    [Theory]
    [InlineData("numeric key (1.0 and 1.00 are equal, their bytes are not)", "total")]
    [InlineData("text key (a collation may equate other bytes)", "status")]
    [InlineData("key of two columns", "id,status")]
    [InlineData("key cast to the destination's type (the batch's int4 id into bigint)", "id")]
    public void Only_a_key_whose_equal_values_have_equal_bytes_and_are_written_uncast_has_the_merge_without_DISTINCT_ON(string why, string key)
    {
        var destination = Destination(ConflictStrategy.LatestWins) with { Key = key.Split(',') };

        var plan = MergePlan.Create(destination, "updated_at", Batch, Table);

        Assert.True(plan.MergeOfDistinctKeys is null, why);
    }

    private static DestinationSpec Destination(ConflictStrategy conflict) => new(DestinationKind.Postgres, "warehouse", "public.orders", ["id"], conflict);
}
