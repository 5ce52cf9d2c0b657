using Sync.Contracts.Jobs;

namespace Sync.Jobs.Tests;

/// <summary>Job files with <c>type: files</c> sources: what they parse to, and bad settings refused with line and fix.</summary>
public sealed class FilesSourceJobTests
{
    private const string Valid = """
        name: orders_from_files
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
            total: { path: order_total, type: numeric }
        destination:
          type: postgres
          connection: warehouse
          table: public.orders

        """;

    [Fact]
    public void A_files_source_parses_to_its_pattern_format_and_fields()
    {
        var source = JobYaml.Parse(Valid).Source;

        Assert.Equal((SourceKind.Files, "inbox", "updated_at"), (source.Kind, source.Connection, source.Cursor));
        Assert.Equal(("orders/*.csv", "csv"), (source.Files!.Pattern, source.Files.Format));
        Assert.Equal(new Contracts.Jobs.SourceField("total", "order_total", "numeric"), source.Files.Fields[2]);
    }

    [Fact]
    public void A_pattern_that_leaves_the_folder_is_refused_with_a_fix()
    {
        var error = JobYaml.ErrorAt(Valid.Replace("\"orders/*.csv\"", "\"../etc/*.csv\"", StringComparison.Ordinal), "source.pattern");

        Assert.Equal((5, 12), (error.Line, error.Column));
        Assert.Contains("FileConnections__<connection>", error.Suggestion, StringComparison.Ordinal);
    }

    [Fact]
    public void An_unknown_format_is_refused_with_the_closest()
    {
        var error = JobYaml.ErrorAt(Valid.Replace("format: csv", "format: json", StringComparison.Ordinal), "source.format");

        Assert.Equal(6, error.Line);
        Assert.Equal("use jsonl", error.Suggestion);
    }

    [Fact]
    public void Http_keys_under_a_files_source_are_refused()
    {
        var error = JobYaml.ErrorAt(Valid.Replace("  format: csv\n", "  format: csv\n  since_param: since\n", StringComparison.Ordinal), "source.since_param");

        Assert.Equal(7, error.Line);
    }

    [Fact]
    public void A_pattern_under_a_table_source_is_refused()
    {
        var error = JobYaml.ErrorAt(JobYaml.MinimalWith("  cursor: updated_at", "  cursor: updated_at\n  pattern: \"*.csv\""), "source.pattern");

        Assert.Contains("type: files", error.Suggestion, StringComparison.Ordinal);
    }
}
