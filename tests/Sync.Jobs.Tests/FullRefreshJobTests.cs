using Sync.Contracts.Jobs;

namespace Sync.Jobs.Tests;

/// <summary><c>mode: full_refresh</c> with <c>destination.deletes</c>: what parses, and what is refused with line, field and fix.</summary>
public sealed class FullRefreshJobTests
{
    private static string Refresh(string destinationLines) =>
        JobYaml.Minimal.Replace("  table: orders_copy\n", "  table: orders_copy\n" + destinationLines, StringComparison.Ordinal) + "mode: full_refresh\n";

    [Fact]
    public void Full_refresh_parses_with_deletes_kept_by_default()
    {
        var job = JobYaml.Parse(JobYaml.Minimal + "mode: full_refresh\n");

        Assert.Equal(SyncMode.FullRefresh, job.Mode);
        Assert.Equal(DeleteMode.Keep, job.Destination.Deletes);
        Assert.Null(job.Destination.SoftDeleteColumn);
        Assert.False(job.Destination.AllowEmpty);
    }

    [Fact]
    public void Deletes_delete_and_allow_empty_parse()
    {
        var job = JobYaml.Parse(Refresh("  deletes: delete\n  allow_empty: true\n"));

        Assert.Equal(DeleteMode.Delete, job.Destination.Deletes);
        Assert.True(job.Destination.AllowEmpty);
    }

    [Fact]
    public void Soft_delete_parses_with_its_column()
    {
        var job = JobYaml.Parse(Refresh("  deletes: soft-delete\n  soft_delete_column: deleted_at\n"));

        Assert.Equal((DeleteMode.SoftDelete, "deleted_at"), (job.Destination.Deletes, job.Destination.SoftDeleteColumn));
    }

    [Fact]
    public void Soft_delete_without_its_column_is_refused_with_the_fix()
    {
        var error = JobYaml.ErrorAt(Refresh("  deletes: soft-delete\n"), "destination.soft_delete_column");

        Assert.Equal(12, error.Line);
        Assert.Contains("required with deletes: soft-delete", error.Message, StringComparison.Ordinal);
        Assert.StartsWith("add soft_delete_column: deleted_at", error.Suggestion, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("  deletes: remove\n", "destination.deletes", "use one of: keep, delete, soft-delete")]
    [InlineData("  deletes: soft_delete\n", "destination.deletes", "use soft-delete")]
    [InlineData("  deletes: delete\n  soft_delete_column: deleted_at\n", "destination.soft_delete_column", "add deletes: soft-delete, or remove soft_delete_column:")]
    [InlineData("  deletes: soft-delete\n  soft_delete_column: deleted at\n", "destination.soft_delete_column", "use deleted_at (letters, digits, _ and $, not starting with a digit, at most 63 characters; job files take names unquoted)")]
    [InlineData("  allow_empty: yes\n", "destination.allow_empty", "use one of: true, false")]
    public void Bad_delete_settings_are_refused_with_their_field_and_a_fix(string lines, string field, string fix)
    {
        var error = JobYaml.ErrorAt(Refresh(lines), field);

        Assert.Equal(fix, error.Suggestion);
    }

    [Fact]
    public void Deletes_without_full_refresh_are_refused_on_their_line()
    {
        var yaml = JobYaml.Minimal.Replace("  table: orders_copy\n", "  table: orders_copy\n  deletes: delete\n", StringComparison.Ordinal);

        var error = JobYaml.ErrorAt(yaml, "destination.deletes");

        Assert.Equal(12, error.Line);
        Assert.StartsWith("needs mode: full_refresh", error.Message, StringComparison.Ordinal);
        Assert.StartsWith("add mode: full_refresh", error.Suggestion, StringComparison.Ordinal);
    }

    [Fact]
    public void Full_refresh_of_a_files_source_is_refused()
    {
        const string files = """
            name: orders_from_files
            mode: full_refresh
            source:
              type: files
              connection: inbox
              pattern: "orders/*.csv"
              format: csv
              cursor: updated_at
              primary_key: [id]
              fields:
                id: bigint
                updated_at: timestamptz
            destination:
              type: postgres
              connection: warehouse
              table: public.orders

            """;

        var error = JobYaml.ErrorAt(files, "mode");

        Assert.Equal(2, error.Line);
        Assert.Contains("not available for a files source", error.Message, StringComparison.Ordinal);
        Assert.Equal("use incremental", error.Suggestion);
    }
}
