using Sync.Contracts.Jobs;

namespace Sync.Jobs.Tests;

/// <summary>Job files with <c>type: http</c> sources: what they parse to, and each bad setting refused with its line and a fix.</summary>
public sealed class HttpSourceJobTests
{
    // Line numbers below are relied on: source.path is on line 5, pagination on 8, fields start on 11.
    private const string Valid = """
        name: orders_from_api
        source:
          type: http
          connection: orders_api
          path: /v1/orders
          records: data.items
          since_param: updated_since
          pagination: { type: cursor, next: meta.next_cursor, param: cursor }
          cursor: updated_at
          primary_key: [id]
          fields:
            id: bigint
            updated_at: timestamptz
            total: { path: amount.total, type: numeric }
        destination:
          type: postgres
          connection: warehouse
          table: public.orders

        """;

    [Fact]
    public void An_http_source_parses_to_its_path_pages_and_typed_fields()
    {
        var source = JobYaml.Parse(Valid).Source;

        Assert.Equal((SourceKind.Http, "orders_api", "/v1/orders", "updated_at"), (source.Kind, source.Connection, source.Table, source.Cursor));
        var http = source.Http!;
        Assert.Equal(("data.items", "updated_since"), (http.Records, http.SinceParam));
        Assert.Equal(new Contracts.Jobs.HttpPagination("cursor", "cursor", "meta.next_cursor"), http.Pagination);
        Assert.Equal(
            [new("id", "id", "bigint"), new("updated_at", "updated_at", "timestamp with time zone"), new("total", "amount.total", "numeric")],
            http.Fields);
    }

    [Fact]
    public void A_whole_url_as_path_is_refused_with_the_connection_setting_to_use()
    {
        var error = JobYaml.ErrorAt(Valid.Replace("path: /v1/orders", "path: https://api.example.com/v1/orders", StringComparison.Ordinal), "source.path");

        Assert.Equal((5, 9), (error.Line, error.Column));
        Assert.Contains("HttpConnections__<connection>__BaseUrl", error.Suggestion, StringComparison.Ordinal);
    }

    [Fact]
    public void An_unknown_field_type_is_refused_with_the_closest_type()
    {
        var error = JobYaml.ErrorAt(Valid.Replace("id: bigint", "id: bigintt", StringComparison.Ordinal), "source.fields.id");

        Assert.Equal(12, error.Line);
        Assert.Equal("use bigint", error.Suggestion);
    }

    [Fact]
    public void A_cursor_that_is_not_among_the_fields_is_refused()
    {
        var error = JobYaml.ErrorAt(Valid.Replace("cursor: updated_at", "cursor: modified_at", StringComparison.Ordinal), "source.cursor");

        Assert.Equal(9, error.Line);
        Assert.Contains("fields:", error.Suggestion, StringComparison.Ordinal);
    }

    [Fact]
    public void Cursor_pagination_without_its_next_field_is_refused()
    {
        var error = JobYaml.ErrorAt(Valid.Replace("next: meta.next_cursor, ", "", StringComparison.Ordinal), "source.pagination.next");

        Assert.Equal(8, error.Line);
        Assert.Contains("next:", error.Suggestion, StringComparison.Ordinal);
    }

    [Fact]
    public void A_table_under_an_http_source_is_refused()
    {
        var error = JobYaml.ErrorAt(Valid.Replace("  path: /v1/orders\n", "  path: /v1/orders\n  table: orders\n", StringComparison.Ordinal), "source.table");

        Assert.Equal(6, error.Line);
        Assert.Contains("path:", error.Suggestion, StringComparison.Ordinal);
    }

    [Fact]
    public void Http_keys_under_a_table_source_are_refused()
    {
        var error = JobYaml.ErrorAt(JobYaml.MinimalWith("  cursor: updated_at", "  cursor: updated_at\n  records: data"), "source.records");

        Assert.Contains("type: http", error.Suggestion, StringComparison.Ordinal);
    }

    [Fact]
    public void Http_is_not_a_destination()
    {
        var error = JobYaml.ErrorAt(Valid.Replace("  type: postgres", "  type: http", StringComparison.Ordinal), "destination.type");

        Assert.Equal(16, error.Line);
    }
}
