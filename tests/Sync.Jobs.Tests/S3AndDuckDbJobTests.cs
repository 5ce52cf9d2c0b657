using Sync.Contracts.Jobs;

namespace Sync.Jobs.Tests;

/// <summary>Job files with s3 and duckdb destinations and S3 files sources: what they parse to, and bad settings refused.</summary>
public sealed class S3AndDuckDbJobTests
{
    private const string S3Job = """
        name: orders_export
        source:
          type: postgres
          connection: demo_source
          table: orders
          cursor: updated_at
          primary_key: id
        destination:
          type: s3
          connection: lake
          prefix: exports/orders/
          format: jsonl

        """;

    [Fact]
    public void An_s3_destination_parses_to_its_prefix_and_format()
    {
        var destination = JobYaml.Parse(S3Job).Destination;

        Assert.Equal((DestinationKind.S3, "lake", "exports/orders/", "jsonl"), (destination.Kind, destination.Connection, destination.S3!.Prefix, destination.S3.Format));
        Assert.Equal(["id"], destination.Key);
    }

    [Fact]
    public void Deletes_under_an_s3_destination_are_refused()
    {
        var job = "mode: full_refresh\n" + S3Job.Replace("  format: jsonl\n", "  format: jsonl\n  deletes: delete\n", StringComparison.Ordinal);

        var error = JobYaml.ErrorAt(job, "destination.deletes");

        Assert.Contains("only removed from PostgreSQL destinations", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void An_s3_destination_without_format_writes_parquet()
    {
        Assert.Equal("parquet", JobYaml.Parse(S3Job.Replace("  format: jsonl\n", string.Empty, StringComparison.Ordinal)).Destination.S3!.Format);
    }

    [Fact]
    public void A_table_under_an_s3_destination_is_refused()
    {
        var error = JobYaml.ErrorAt(S3Job.Replace("  format: jsonl\n", "  format: jsonl\n  table: orders\n", StringComparison.Ordinal), "destination.table");

        Assert.Equal(13, error.Line);
        Assert.Contains("prefix:", error.Suggestion, StringComparison.Ordinal);
    }

    [Fact]
    public void An_s3_prefix_with_a_leading_slash_or_dot_dot_is_refused_with_a_fix()
    {
        var error = JobYaml.ErrorAt(S3Job.Replace("exports/orders/", "/exports/../x", StringComparison.Ordinal), "destination.prefix");

        Assert.Equal((11, 11), (error.Line, error.Column));
        Assert.Contains("S3Connections__<connection>__Bucket", error.Suggestion, StringComparison.Ordinal);
    }

    [Fact]
    public void An_unknown_s3_format_is_refused_with_the_closest()
    {
        var error = JobYaml.ErrorAt(S3Job.Replace("format: jsonl", "format: parket", StringComparison.Ordinal), "destination.format");

        Assert.Equal("use parquet", error.Suggestion);
    }

    [Fact]
    public void A_prefix_under_a_postgres_destination_is_refused()
    {
        var error = JobYaml.ErrorAt(JobYaml.Minimal + "  prefix: exports/\n", "destination.prefix");

        Assert.Contains("type: s3", error.Suggestion, StringComparison.Ordinal);
    }

    [Fact]
    public void A_duckdb_destination_takes_table_key_and_conflict()
    {
        var destination = JobYaml.Parse(JobYaml.Minimal.Replace("  type: postgres\n  connection: demo_destination", "  type: duckdb\n  connection: warehouse", StringComparison.Ordinal)
            + "  conflict: source-wins\n").Destination;

        Assert.Equal((DestinationKind.DuckDb, "warehouse", "orders_copy", Contracts.Jobs.ConflictStrategy.SourceWins), (destination.Kind, destination.Connection, destination.Table, destination.Conflict));
    }

    [Fact]
    public void A_files_source_with_a_prefix_needs_no_pattern()
    {
        var source = JobYaml.Parse("""
            name: orders_from_s3
            source:
              type: files
              connection: lake
              prefix: incoming/orders/
              format: jsonl
              cursor: updated_at
              primary_key: [id]
              fields:
                id: bigint
                updated_at: timestamptz
            destination:
              type: duckdb
              connection: warehouse
              table: orders

            """).Source;

        Assert.Equal(("incoming/orders/", string.Empty), (source.Files!.Prefix, source.Files.Pattern));
    }

    [Fact]
    public void A_files_source_without_pattern_or_prefix_is_refused()
    {
        var errors = JobYaml.Errors("""
            name: orders_from_files
            source:
              type: files
              connection: inbox
              format: csv
              cursor: id
              primary_key: [id]
              fields:
                id: bigint
            destination:
              type: postgres
              connection: warehouse
              table: public.orders

            """);

        Assert.Contains(errors, e => e.Field == "source.pattern");
    }

    [Fact]
    public void A_prefix_under_a_table_source_is_refused()
    {
        var error = JobYaml.ErrorAt(JobYaml.MinimalWith("  cursor: updated_at", "  cursor: updated_at\n  prefix: x/"), "source.prefix");

        Assert.Contains("type: files", error.Suggestion, StringComparison.Ordinal);
    }
}
