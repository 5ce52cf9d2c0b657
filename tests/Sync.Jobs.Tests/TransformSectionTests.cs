using Sync.Contracts.Jobs;

namespace Sync.Jobs.Tests;

/// <summary>Computed columns (<c>{ expr: … }</c>), <c>filter:</c>, <c>lookups:</c> and <c>transform: { code: … }</c>.</summary>
public sealed class TransformSectionTests
{
    private const string Columns = "columns:\n  id: id\n  updated_at: updated_at\n";

    [Fact]
    public void A_computed_column_keeps_its_expression_and_cast_and_reads_its_columns()
    {
        var job = JobYaml.Parse(JobYaml.Minimal + Columns
            + "  total_cents: { expr: \"round(total * 100)\", cast: bigint }\n  synced_at: { expr: \"now()\" }\n"
            + "filter: \"status <> 'draft'\"\n");

        Assert.Equal(new ColumnMapping("total_cents", "", "bigint", "round(total * 100)"), job.Transform.Columns[2]);
        Assert.Equal(new ColumnMapping("synced_at", "", null, "now()"), job.Transform.Columns[3]);
        Assert.Equal("status <> 'draft'", job.Transform.Filter);
        Assert.Equal(["id", "updated_at", "total", "status"], TransformReads.SourceColumns(job.Transform));
    }

    [Fact]
    public void A_lookup_reads_its_key_and_defaults_to_the_source_connection()
    {
        var job = JobYaml.Parse(JobYaml.Minimal + Columns + "  email: user_email\n"
            + "lookups:\n  user_email: { table: public.users, key: user_id, match: id, column: email }\n"
            + "transform: { code: order_tier }\n");

        Assert.Equal([new LookupSpec("user_email", "demo_source", "public.users", "user_id", "id", "email")], job.Transform.Lookups!);
        Assert.Equal("order_tier", job.Transform.Code);
        Assert.Equal(["id", "updated_at", "user_id"], TransformSource(job));
    }

    [Fact]
    public void A_syntax_error_names_the_field_and_the_character()
    {
        var error = Assert.Single(JobYaml.Errors(JobYaml.Minimal + Columns + "  total_cents: { expr: \"round(total * )\" }\n"));

        Assert.Equal(("columns.total_cents.expr", 15), (error.Field, error.Line));
        Assert.Contains("at character 15: expected a value", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_bad_filter_is_refused_before_the_run()
    {
        var error = JobYaml.ErrorAt(JobYaml.Minimal + "filter: \"status = 'draft\"\n", "filter");

        Assert.Contains("unterminated string", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_column_with_both_source_and_expr_is_refused()
    {
        var error = Assert.Single(JobYaml.Errors(JobYaml.Minimal + Columns + "  x: { source: a, expr: \"1\" }\n"));

        Assert.Equal("columns.x", error.Field);
        Assert.Contains("both source: and expr:", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_lookup_without_its_keys_says_which_are_missing()
    {
        var errors = JobYaml.Errors(JobYaml.Minimal + "lookups:\n  user_email: { table: public.users }\n");

        Assert.Equal(["lookups.user_email.column", "lookups.user_email.key", "lookups.user_email.match"], errors.Select(e => e.Field).Order());
    }

    private static IReadOnlyList<string> TransformSource(JobSpec job) => TransformReads.SourceColumns(job.Transform);
}
