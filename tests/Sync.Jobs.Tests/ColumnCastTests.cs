using Sync.Contracts.Jobs;

namespace Sync.Jobs.Tests;

/// <summary>The <c>{ source: column, cast: type }</c> form of a columns: entry.</summary>
public sealed class ColumnCastTests
{
    private const string Columns = "columns:\n  id: id\n  updated_at: updated_at\n";

    [Fact]
    public void A_column_may_name_its_source_and_a_cast()
    {
        var job = JobYaml.Parse(JobYaml.Minimal + Columns + "  amount: { source: amount_text, cast: numeric }\n  seen: { source: seen_at, cast: timestamptz }\n");

        Assert.Equal(
            [new ColumnMapping("id", "id"), new ColumnMapping("updated_at", "updated_at"),
             new ColumnMapping("amount", "amount_text", "numeric"), new ColumnMapping("seen", "seen_at", "timestamp with time zone")],
            job.Transform.Columns);
    }

    [Fact]
    public void The_block_form_and_a_mapping_without_a_cast_read_like_a_plain_source()
    {
        var job = JobYaml.Parse(JobYaml.Minimal + Columns + "  qty:\n    source: qty_text\n    cast: integer\n  note: { source: remark }\n");

        Assert.Equal(new ColumnMapping("qty", "qty_text", "integer"), job.Transform.Columns[2]);
        Assert.Equal(new ColumnMapping("note", "remark"), job.Transform.Columns[3]);
    }

    [Fact]
    public void An_unknown_cast_type_is_reported_where_it_is_with_the_closest_type()
    {
        var error = Assert.Single(JobYaml.Errors(JobYaml.Minimal + Columns + "  qty: { source: qty_text, cast: integr }\n"));

        Assert.Equal(("columns.qty.cast", 15, 34), (error.Field, error.Line, error.Column));
        Assert.StartsWith("must be one of smallint, integer", error.Message, StringComparison.Ordinal);
        Assert.Equal("use integer", error.Suggestion);
    }

    [Fact]
    public void A_cast_needs_a_source_and_takes_no_other_keys()
    {
        var errors = JobYaml.Errors(JobYaml.Minimal + Columns + "  qty: { cast: integer, default: 0 }\n");

        Assert.Equal(2, errors.Count);
        Assert.Contains(errors, e => e.Field == "columns.qty.default" && e.Message == "unknown key \"default\"");
        Assert.Contains(errors, e => e.Field == "columns.qty.source" && e.Message == "is required");
        Assert.All(errors, e => Assert.Equal(15, e.Line));
    }

    [Fact]
    public void Every_cast_type_of_a_job_file_has_a_converter()
    {
        Assert.All(Kinds.Casts.Values, type => Assert.Contains(type, Sync.Batches.PgValueCast.TargetNames));
    }
}
