namespace Sync.Jobs.Tests;

public sealed class SourceQueryTests
{
    private const string TableLine = "  table: orders";

    [Fact]
    public void A_query_source_is_read_as_written_without_a_table()
    {
        var job = JobYaml.Parse(JobYaml.MinimalWith(TableLine, "  query: |\n    SELECT id, updated_at\n    FROM orders o JOIN users u ON u.id = o.user_id"));

        Assert.Equal("SELECT id, updated_at\nFROM orders o JOIN users u ON u.id = o.user_id", job.Source.Query);
        Assert.Equal(string.Empty, job.Source.Table);
    }

    [Fact]
    public void Table_and_query_together_are_refused_at_the_query()
    {
        var error = JobYaml.ErrorAt(JobYaml.MinimalWith(TableLine, TableLine + "\n  query: SELECT 1"), "source.query");

        Assert.Equal(6, error.Line);
        Assert.Contains("table:", error.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("  query: DELETE FROM orders", "start it with SELECT (or WITH … SELECT); to read a whole table use table: instead")]
    [InlineData("  query: SELECT * FROM orders;", "remove the trailing ;")]
    [InlineData("  query: SELECT 1; DROP TABLE orders", "keep one SELECT; a ; inside a string literal can be written chr(59)")]
    [InlineData("  query: \" \"", "write the query as a block: query: | followed by SELECT … on the next lines")]
    public void A_query_that_is_not_one_select_is_refused_with_a_fix(string line, string fix)
    {
        var error = JobYaml.ErrorAt(JobYaml.MinimalWith(TableLine, line), "source.query");

        Assert.Equal((5, fix), (error.Line, error.Suggestion));
    }

    [Fact]
    public void A_qualified_cursor_of_a_query_is_refused_with_the_alias_to_write()
    {
        var yaml = JobYaml.MinimalWith(TableLine, "  query: SELECT o.id, o.updated_at FROM orders o")
            .Replace("  cursor: updated_at", "  cursor: orders.updated_at", StringComparison.Ordinal);

        var error = JobYaml.ErrorAt(yaml, "source.cursor");

        Assert.Equal("select it under a plain name, e.g. orders.updated_at AS updated_at, and write cursor: updated_at", error.Suggestion);
    }
}
