using Sync.Contracts.Jobs;

namespace Sync.Jobs.Tests;

/// <summary>Job files naming C# sources and sinks (<c>type: code</c>): what they parse to, and bad settings refused.</summary>
public sealed class CodeJobTests
{
    private const string CodeJob = """
        name: demo_export
        source:
          type: code
          name: demo_orders
          cursor: seq
          primary_key: [id]
        destination:
          type: code
          name: jsonl_folder

        """;

    [Fact]
    public void A_code_source_and_destination_parse_to_their_names_cursor_and_key()
    {
        var job = JobYaml.Parse(CodeJob);

        Assert.Equal((SourceKind.Code, "", "demo_orders", "seq"), (job.Source.Kind, job.Source.Connection, job.Source.Table, job.Source.Cursor));
        Assert.Equal(["id"], job.Source.PrimaryKey);
        Assert.Equal((DestinationKind.Code, "", "jsonl_folder"), (job.Destination.Kind, job.Destination.Connection, job.Destination.Table));
        Assert.Equal(["id"], job.Destination.Key);
    }

    [Fact]
    public void A_code_source_can_load_into_postgres_and_a_table_source_into_a_code_sink()
    {
        var intoPostgres = JobYaml.Parse(CodeJob.Replace("  type: code\n  name: jsonl_folder\n", "  type: postgres\n  connection: demo_destination\n  table: orders_copy\n", StringComparison.Ordinal));
        var fromTable = JobYaml.Parse(JobYaml.Minimal.Replace("  type: postgres\n  connection: demo_destination\n  table: orders_copy\n", "  type: code\n  name: jsonl_folder\n", StringComparison.Ordinal));

        Assert.Equal((SourceKind.Code, DestinationKind.Postgres), (intoPostgres.Source.Kind, intoPostgres.Destination.Kind));
        Assert.Equal((SourceKind.Postgres, DestinationKind.Code, "jsonl_folder"), (fromTable.Source.Kind, fromTable.Destination.Kind, fromTable.Destination.Table));
    }

    [Fact]
    public void A_code_source_without_a_name_is_refused_at_its_line_with_an_example()
    {
        var error = JobYaml.ErrorAt(CodeJob.Replace("  name: demo_orders\n", string.Empty, StringComparison.Ordinal), "source.name");

        Assert.Equal("jobs/test.yml", error.File);
        Assert.Equal(2, error.Line);
        Assert.Contains("demo_orders", error.Suggestion, StringComparison.Ordinal);
    }

    [Fact]
    public void A_name_that_no_class_could_register_is_refused_with_the_rule()
    {
        var error = JobYaml.ErrorAt(CodeJob.Replace("name: jsonl_folder", "name: \"json folder\"", StringComparison.Ordinal), "destination.name");

        Assert.Equal(9, error.Line);
        Assert.Contains("[SyncSink(\"orders_jsonl\")]", error.Suggestion, StringComparison.Ordinal);
    }

    [Fact]
    public void A_code_source_without_cursor_or_primary_key_is_refused()
    {
        var errors = JobYaml.Errors(CodeJob.Replace("  cursor: seq\n  primary_key: [id]\n", string.Empty, StringComparison.Ordinal));

        Assert.Contains(errors, e => e.Field == "source.cursor");
        Assert.Contains(errors, e => e.Field == "source.primary_key");
    }

    [Theory]
    [InlineData("  connection: demo_source\n", "source.connection")]
    [InlineData("  table: orders\n", "source.table")]
    [InlineData("  lookback: 10m\n", "source.lookback")]
    [InlineData("  mode: cdc\n", "source.mode")]
    [InlineData("  fields: { id: { path: id, type: bigint } }\n", "source.fields")]
    public void A_key_of_another_source_kind_under_a_code_source_is_refused(string line, string field)
    {
        var error = JobYaml.ErrorAt(CodeJob.Replace("  name: demo_orders\n", "  name: demo_orders\n" + line, StringComparison.Ordinal), field);

        Assert.Equal(5, error.Line);
        Assert.Contains("only name, cursor and primary_key apply", error.Suggestion, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("  connection: lake\n", "destination.connection")]
    [InlineData("  table: orders_copy\n", "destination.table")]
    [InlineData("  conflict: merge\n", "destination.conflict")]
    [InlineData("  prefix: exports/\n", "destination.prefix")]
    public void A_key_of_another_destination_kind_under_a_code_destination_is_refused(string line, string field)
    {
        var error = JobYaml.ErrorAt(CodeJob.Replace("  name: jsonl_folder\n", "  name: jsonl_folder\n" + line, StringComparison.Ordinal), field);

        Assert.Equal(10, error.Line);
        Assert.Contains("only name applies", error.Suggestion, StringComparison.Ordinal);
    }

    [Fact]
    public void A_name_under_a_table_source_or_destination_is_refused_pointing_to_type_code()
    {
        var yaml = JobYaml.Minimal
            .Replace("  table: orders\n", "  table: orders\n  name: demo_orders\n", StringComparison.Ordinal)
            .Replace("  table: orders_copy\n", "  table: orders_copy\n  name: jsonl_folder\n", StringComparison.Ordinal);

        var errors = JobYaml.Errors(yaml);

        Assert.Contains(errors, e => e.Field == "source.name" && e.Suggestion?.Contains("type: code", StringComparison.Ordinal) == true);
        Assert.Contains(errors, e => e.Field == "destination.name" && e.Suggestion?.Contains("type: code", StringComparison.Ordinal) == true);
    }

    [Fact]
    public void A_misspelt_type_suggests_code()
    {
        var error = JobYaml.ErrorAt(CodeJob.Replace("type: code\n  name: jsonl_folder", "type: cod\n  name: jsonl_folder", StringComparison.Ordinal), "destination.type");

        Assert.Contains("code", error.Suggestion, StringComparison.Ordinal);
    }
}
