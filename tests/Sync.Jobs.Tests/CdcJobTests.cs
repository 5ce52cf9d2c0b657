using Sync.Contracts.Jobs;

namespace Sync.Jobs.Tests;

/// <summary>Job files with <c>source.mode: cdc</c>: what they parse to, and settings cdc rules out, refused with a fix.</summary>
public sealed class CdcJobTests
{
    private const string Valid = """
        name: orders_cdc
        schedule: continuous
        source:
          type: postgres
          connection: source_db
          table: public.orders
          mode: cdc
          primary_key: [id]
        destination:
          type: postgres
          connection: destination_db
          table: public.orders
          deletes: soft-delete
          soft_delete_column: deleted_at

        """;

    [Fact]
    public void A_cdc_job_needs_no_cursor_and_defaults_to_source_wins()
    {
        var job = JobYaml.Parse(Valid);

        Assert.Equal((SyncMode.Cdc, "continuous", string.Empty), (job.Mode, job.Schedule, job.Source.Cursor));
        Assert.Equal((ConflictStrategy.SourceWins, DeleteMode.SoftDelete, "deleted_at"), (job.Destination.Conflict, job.Destination.Deletes, job.Destination.SoftDeleteColumn));
    }

    [Fact]
    public void A_key_computed_by_an_expression_is_refused_with_cdc_and_a_computed_other_column_is_not()
    {
        const string columns = "columns:\n  id: id\n  code: { expr: \"id * 10\" }\n  status: { expr: \"upper(status)\" }\n";
        var keyedByCode = Valid.Replace("  deletes: soft-delete", "  key: [code]\n  deletes: soft-delete", StringComparison.Ordinal) + columns;

        var error = JobYaml.ErrorAt(keyedByCode, "destination.key");
        var job = JobYaml.Parse(Valid + columns);

        Assert.Contains("key column \"code\" is computed by an expression", error.Message, StringComparison.Ordinal);
        Assert.Equal((SyncMode.Cdc, "id"), (job.Mode, Assert.Single(job.Destination.Key)));
    }

    [Fact]
    public void A_destination_key_not_read_from_the_source_primary_key_is_refused_with_cdc()
    {
        var keyedByEmail = Valid.Replace("  deletes: soft-delete", "  key: [email]\n  deletes: soft-delete", StringComparison.Ordinal) + "columns:\n  id: id\n  email: email\n";

        var error = JobYaml.ErrorAt(keyedByEmail, "destination.key");

        Assert.Contains("reads \"email\", so deletes would match no row", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Lookback_is_refused_with_cdc()
    {
        var error = JobYaml.ErrorAt(Valid.Replace("  primary_key: [id]", "  primary_key: [id]\n  lookback: 10m", StringComparison.Ordinal), "source.lookback");

        Assert.Contains("remove lookback", error.Suggestion, StringComparison.Ordinal);
    }

    [Fact]
    public void Soft_delete_without_its_column_is_refused()
    {
        var error = JobYaml.ErrorAt(Valid.Replace("  soft_delete_column: deleted_at\n", "", StringComparison.Ordinal), "destination.soft_delete_column");

        Assert.Contains("soft_delete_column", error.Suggestion, StringComparison.Ordinal);
    }

    [Fact]
    public void Truncate_defaults_to_apply_takes_ignore_and_is_refused_without_cdc_or_with_another_word()
    {
        var ignore = JobYaml.Parse(Valid.Replace("  deletes: soft-delete", "  truncate: ignore\n  deletes: soft-delete", StringComparison.Ordinal));
        var misspelt = Valid.Replace("  deletes: soft-delete", "  truncate: aply\n  deletes: soft-delete", StringComparison.Ordinal);
        var incremental = Valid.Replace("  mode: cdc\n", "  cursor: updated_at\n", StringComparison.Ordinal)
            .Replace("  deletes: soft-delete\n  soft_delete_column: deleted_at\n", "  truncate: apply\n", StringComparison.Ordinal)
            .Replace("schedule: continuous", "schedule: \"*/5 * * * *\"", StringComparison.Ordinal);

        Assert.Equal((TruncateMode.Apply, TruncateMode.Ignore), (JobYaml.Parse(Valid).Destination.Truncate, ignore.Destination.Truncate));
        Assert.Contains("apply", JobYaml.ErrorAt(misspelt, "destination.truncate").Message, StringComparison.Ordinal);
        Assert.Contains("mode: cdc", JobYaml.ErrorAt(incremental, "destination.truncate").Suggestion, StringComparison.Ordinal);
    }

    [Fact]
    public void Deletes_and_continuous_are_refused_without_cdc()
    {
        var incremental = Valid.Replace("  mode: cdc\n", "  cursor: updated_at\n", StringComparison.Ordinal);

        Assert.Contains("mode: cdc", JobYaml.ErrorAt(incremental, "destination.deletes").Suggestion, StringComparison.Ordinal);
        Assert.Contains("mode: cdc", JobYaml.ErrorAt(incremental.Replace("  deletes: soft-delete\n  soft_delete_column: deleted_at\n", "", StringComparison.Ordinal), "schedule").Suggestion, StringComparison.Ordinal);
    }
}
