namespace Sync.Jobs.Tests;

public sealed class JobFileErrorTests
{
    [Fact]
    public void Error_text_reads_file_line_column_field_message_and_fix()
    {
        var error = JobYaml.ErrorAt(JobYaml.MinimalWith("  cursor: updated_at", "  cursor: updated at"), "source.cursor");

        Assert.Equal(
            "jobs/test.yml:6:11: source.cursor: must be a column name like updated_at (got \"updated at\"). "
                + "Fix: use updated_at (letters, digits, _ and $, not starting with a digit, at most 63 characters; job files take names unquoted)",
            error.ToString());
        Assert.Equal(("jobs/test.yml", 6, 11), (error.File, error.Line, error.Column));
    }

    [Fact]
    public void Malformed_yaml_is_reported_at_its_line()
    {
        var error = Assert.Single(JobYaml.Errors("name: orders\nsource: a: b\n"));

        Assert.Equal(("", 2, 10), (error.Field, error.Line, error.Column));
        Assert.StartsWith("is not valid YAML", error.Message, StringComparison.Ordinal);
        Assert.NotNull(error.Suggestion);
    }

    [Fact]
    public void Tabs_in_indentation_are_reported_with_a_fix()
    {
        var error = Assert.Single(JobYaml.Errors("name: orders\nsource:\n\ttype: postgres\n"));

        Assert.Equal((3, 1), (error.Line, error.Column));

        Assert.Contains("spaces", error.Suggestion, StringComparison.Ordinal);
    }

    [Fact]
    public void An_unclosed_bracket_is_reported_not_thrown()
    {
        var error = Assert.Single(JobYaml.Errors("name: orders\nsource: [1,\nb: 2\n"));

        Assert.StartsWith("is not valid YAML", error.Message, StringComparison.Ordinal);
        Assert.True(error.Line >= 1);
    }

    [Theory]
    [InlineData("schedule: */15 * * * *", "quote the value: schedule: \"*/15 * * * *\"")]
    [InlineData("schedule: @hourly", "quote the value: schedule: \"@hourly\"")]
    public void An_unquoted_cron_value_is_reported_with_the_quoted_form(string line, string fix)
    {
        var error = Assert.Single(JobYaml.Errors(JobYaml.Minimal + line + "\n"));

        Assert.Equal(("", 12), (error.Field, error.Line));
        Assert.Equal(fix, error.Suggestion);
    }

    [Fact]
    public void A_key_written_twice_is_reported_at_the_second()
    {
        var error = Assert.Single(JobYaml.Errors(JobYaml.Minimal + "name: again\n"));

        Assert.Equal(12, error.Line);
        Assert.Contains("Duplicate key", error.Message, StringComparison.Ordinal);
        Assert.NotNull(error.Suggestion);
    }

    [Theory]
    [InlineData("")]
    [InlineData("# only a comment\n")]
    public void An_empty_file_is_reported(string yaml)
    {
        var error = Assert.Single(JobYaml.Errors(yaml));

        Assert.Equal("is empty", error.Message);
        Assert.NotNull(error.Suggestion);
    }

    [Theory]
    [InlineData("- name: orders\n", "a list")]
    [InlineData("orders\n", "a single value")]
    public void A_file_that_is_not_a_mapping_is_reported(string yaml, string shape)
    {
        var error = Assert.Single(JobYaml.Errors(yaml));

        Assert.Equal(("", 1, 1), (error.Field, error.Line, error.Column));
        Assert.EndsWith($"not {shape}", error.Message, StringComparison.Ordinal);
        Assert.NotNull(error.Suggestion);
    }

    [Fact]
    public void Two_documents_in_one_file_are_reported()
    {
        var error = Assert.Single(JobYaml.Errors(JobYaml.Minimal + "---\n" + JobYaml.Minimal));

        Assert.Equal(13, error.Line);
        Assert.Contains("one job", error.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("source:", "sorce:", "sorce", 2, "source")]
    [InlineData("name: orders", "name: orders\nbatchsize: 500", "batchsize", 2, "batch_size")]
    [InlineData("  primary_key: id", "  primary_key: id\n  primarykey: id", "source.primarykey", 8, "primary_key")]
    [InlineData("  table: orders_copy", "  table: orders_copy\n  conflcit: dest-wins", "destination.conflcit", 12, "conflict")]
    public void Unknown_keys_suggest_the_closest_known_key(string line, string replacement, string field, int lineNo, string closest)
    {
        var errors = JobYaml.Errors(JobYaml.MinimalWith(line, replacement));

        var error = Assert.Single(errors, e => e.Field == field);
        Assert.Equal(lineNo, error.Line);
        Assert.Contains("unknown key", error.Message, StringComparison.Ordinal);
        Assert.Equal($"rename {field.Split('.')[^1]} to {closest}", error.Suggestion);
    }

    [Fact]
    public void An_unknown_key_like_no_known_key_lists_the_known_keys()
    {
        var error = JobYaml.ErrorAt(JobYaml.Minimal + "owner: team-data\n", "owner");

        Assert.Equal("use one of: name, schedule, batch_size, batch_bytes, mode, source, destination, columns, retry, filter, lookups, transform, verify", error.Suggestion);
    }

    [Fact]
    public void Missing_required_keys_are_each_reported_where_they_belong()
    {
        var yaml = JobYaml.MinimalWith("  cursor: updated_at", "").Replace("name: orders\n", "", StringComparison.Ordinal);

        var errors = JobYaml.Errors(yaml);

        var cursor = Assert.Single(errors, e => e.Field == "source.cursor");
        Assert.Equal(("is required", 1), (cursor.Message, cursor.Line));
        Assert.Equal("add cursor: updated_at under source:", cursor.Suggestion);
        var name = Assert.Single(errors, e => e.Field == "name");
        Assert.Equal("add name: orders_to_reporting", name.Suggestion);
    }

    [Fact]
    public void A_missing_section_is_reported()
    {
        var yaml = JobYaml.Minimal[..JobYaml.Minimal.IndexOf("destination:", StringComparison.Ordinal)];

        var error = JobYaml.ErrorAt(yaml, "destination");

        Assert.Equal("is required", error.Message);
        Assert.NotNull(error.Suggestion);
    }

    [Fact]
    public void A_list_where_a_single_value_belongs_is_reported()
    {
        var error = JobYaml.ErrorAt(JobYaml.MinimalWith("  cursor: updated_at", "  cursor: [updated_at, id]"), "source.cursor");

        Assert.Equal((6, "must be a single value, not a list"), (error.Line, error.Message));
        Assert.Equal("write it on one line, e.g. cursor: updated_at", error.Suggestion);
    }

    [Fact]
    public void A_value_where_a_section_belongs_is_reported()
    {
        var yaml = JobYaml.Minimal[..JobYaml.Minimal.IndexOf("destination:", StringComparison.Ordinal)] + "destination: orders_copy\n";

        var error = JobYaml.ErrorAt(yaml, "destination");

        Assert.Equal(8, error.Line);
        Assert.StartsWith("must be a mapping", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_batch_size_that_is_not_a_number_is_reported()
    {
        var error = JobYaml.ErrorAt(JobYaml.Minimal + "batch_size: abc\n", "batch_size");

        Assert.Equal((12, 13), (error.Line, error.Column));
        Assert.Equal("must be a whole number between 100 and 10000 (got \"abc\")", error.Message);
        Assert.Equal("write a number of rows, e.g. batch_size: 1000", error.Suggestion);
    }

    [Theory]
    [InlineData(99, "use 100")]
    [InlineData(-5, "use 100")]
    [InlineData(10_001, "use 10000")]
    public void An_out_of_range_batch_size_suggests_the_nearest_allowed(int size, string fix)
    {
        var error = JobYaml.ErrorAt(JobYaml.Minimal + $"batch_size: {size}\n", "batch_size");

        Assert.Equal($"must be between 100 and 10000 (got {size})", error.Message);
        Assert.Equal(fix, error.Suggestion);
    }

    [Theory]
    [InlineData("mode: full-refresh\n", "mode", "use full_refresh")]
    [InlineData("mode: cdc\n", "mode", "use one of: incremental, full_refresh")]
    [InlineData("  conflict: dest_wins\n", "destination.conflict", "use dest-wins")]
    [InlineData("  conflict: newest\n", "destination.conflict", "use one of: latest-wins, source-wins, dest-wins, merge")]
    public void Unknown_choices_suggest_the_allowed_ones(string line, string field, string fix)
    {
        var error = JobYaml.ErrorAt(JobYaml.Minimal + line, field);

        Assert.Equal(12, error.Line);
        Assert.StartsWith("must be one of ", error.Message, StringComparison.Ordinal);
        Assert.Equal(fix, error.Suggestion);
    }

    [Fact]
    public void An_unknown_connector_type_is_reported()
    {
        var error = JobYaml.ErrorAt(JobYaml.MinimalWith("  type: postgres\n  connection: demo_source", "  type: mysql\n  connection: demo_source"), "source.type");

        Assert.Equal((3, "must be one of postgres, http, files, code (got \"mysql\")"), (error.Line, error.Message));
        Assert.Equal("use one of: postgres, http, files, code", error.Suggestion);
    }

    [Fact]
    public void An_unknown_destination_type_is_refused_naming_the_file_the_field_and_the_valid_kinds()
    {
        var error = JobYaml.ErrorAt(JobYaml.MinimalWith("  type: postgres\n  connection: demo_destination", "  type: kafka\n  connection: demo_destination"), "destination.type");

        Assert.Equal(
            "jobs/test.yml:9:9: destination.type: must be one of postgres, duckdb, s3, code (got \"kafka\"). Fix: use one of: postgres, duckdb, s3, code",
            error.ToString());
    }

    [Fact]
    public void An_invalid_primary_key_column_is_reported_by_index()
    {
        var error = JobYaml.ErrorAt(JobYaml.MinimalWith("  primary_key: id", "  primary_key: [id, \"order id\"]"), "source.primary_key[1]");

        Assert.Equal(7, error.Line);
        Assert.Equal("must be a column name like id (got \"order id\")", error.Message);
        Assert.StartsWith("use order_id ", error.Suggestion, StringComparison.Ordinal);
    }

    [Fact]
    public void A_primary_key_column_listed_twice_is_reported()
    {
        var error = JobYaml.ErrorAt(JobYaml.MinimalWith("  primary_key: id", "  primary_key: [id, id]"), "source.primary_key[1]");

        Assert.Equal("lists \"id\" twice", error.Message);
    }

    [Theory]
    [InlineData("orders\"; drop table x; --")]
    [InlineData("db.public.orders")]
    [InlineData("public.")]
    [InlineData("\"Orders\"")]
    public void An_invalid_table_name_is_reported(string table)
    {
        var yaml = JobYaml.MinimalWith("  table: orders", $"  table: '{table}'");

        var error = JobYaml.ErrorAt(yaml, "source.table");

        Assert.Equal(5, error.Line);
        Assert.StartsWith("must be a table name like public.orders", error.Message, StringComparison.Ordinal);
        Assert.NotNull(error.Suggestion);
    }

    [Theory]
    [InlineData("61 * * * *", "Minutes")]
    [InlineData("* * *", "needs 5 fields")]
    [InlineData("0 0 30 2 *", "never fires")]
    [InlineData("@fortnightly", "is not a known macro; the macros are @yearly, @annually")]
    [InlineData("0 0 1 * MON", "restricts both day-of-month (1) and day-of-week (MON)")]
    public void An_impossible_schedule_is_reported(string cron, string reason)
    {
        var error = JobYaml.ErrorAt(JobYaml.Minimal + $"schedule: \"{cron}\"\n", "schedule");

        Assert.Equal(("jobs/test.yml", 12, 11), (error.File, error.Line, error.Column));
        Assert.StartsWith($"jobs/test.yml:12:11: schedule: must be a cron schedule like \"*/15 * * * *\" (got \"{cron}\"): ", error.ToString(), StringComparison.Ordinal);
        Assert.Contains(reason, error.Message, StringComparison.Ordinal);
        Assert.Contains(". Fix: ", error.ToString(), StringComparison.Ordinal);
        Assert.False(string.IsNullOrWhiteSpace(error.Suggestion));
    }

    [Theory]
    [InlineData("every 15 minutes", "use \"*/15 * * * *\"")]
    [InlineData("every 2 hours", "use \"0 */2 * * *\"")]
    [InlineData("every 30 seconds", "schedules go down to one minute; use \"* * * * *\"")]
    [InlineData("\"@every_second\"", "use @every_minute or \"* * * * *\"")]
    [InlineData("\"0 6 1 * MON\"", "keep one day field: \"0 6 1 * *\" (days of the month) or \"0 6 * * MON\" (days of the week); for one weekday of the month write e.g. MON#1 (the first Monday) or 5L (the last Friday) as day-of-week")]
    public void Schedules_in_words_suggest_the_cron_expression(string schedule, string fix)
    {
        var error = JobYaml.ErrorAt(JobYaml.Minimal + $"schedule: {schedule}\n", "schedule");

        Assert.Equal(fix, error.Suggestion);
    }

    [Theory]
    [InlineData("Host=db;Database=orders;Username=sync;Password=hunter2", "orders")]
    [InlineData("postgres://sync:hunter2@db:5432/orders?sslmode=require", "orders")]
    [InlineData("Host=db;Password=hunter2", "source_db")]
    public void A_connection_string_is_refused_without_repeating_it(string connectionString, string name)
    {
        var error = JobYaml.ErrorAt(JobYaml.MinimalWith("  connection: demo_source", $"  connection: \"{connectionString}\""), "source.connection");

        Assert.Equal(4, error.Line);
        Assert.Contains("connection string", error.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("hunter2", error.ToString(), StringComparison.Ordinal);
        Assert.Equal($"write connection: {name} and set the environment variable Connections__{name} to the connection string", error.Suggestion);
    }

    [Theory]
    [InlineData("demo source")]
    [InlineData("1st")]
    [InlineData("demo__source")]
    public void An_invalid_connection_name_is_reported(string connection)
    {
        var error = JobYaml.ErrorAt(JobYaml.MinimalWith("  connection: demo_destination", $"  connection: {connection}"), "destination.connection");

        Assert.Equal(10, error.Line);
        Assert.StartsWith("must be a connection name", error.Message, StringComparison.Ordinal);
        Assert.Contains("Connections__<name>", error.Suggestion, StringComparison.Ordinal);
    }

    [Fact]
    public void An_invalid_job_name_suggests_a_valid_one()
    {
        var error = JobYaml.ErrorAt(JobYaml.MinimalWith("name: orders", "name: Orders To Reporting"), "name");

        Assert.Equal((1, 7), (error.Line, error.Column));
        Assert.StartsWith("use orders_to_reporting ", error.Suggestion, StringComparison.Ordinal);
    }

    [Fact]
    public void Columns_must_read_the_cursor_and_every_primary_key_column()
    {
        var errors = JobYaml.Errors(JobYaml.Minimal + "columns:\n  customer: customer_name\n");

        Assert.Equal(2, errors.Count);
        Assert.All(errors, e => Assert.Equal(("columns", 12), (e.Field, e.Line)));
        Assert.Contains(errors, e => e.Message.Contains("cursor column updated_at", StringComparison.Ordinal) && e.Suggestion == "add updated_at: updated_at under columns:");
        Assert.Contains(errors, e => e.Message.Contains("primary-key column id", StringComparison.Ordinal) && e.Suggestion == "add id: id under columns:");
    }

    [Fact]
    public void Column_names_in_the_mapping_are_identifiers()
    {
        var errors = JobYaml.Errors(JobYaml.Minimal + "columns:\n  id: id\n  updated_at: updated_at\n  customer: customer name\n");

        var error = Assert.Single(errors);
        Assert.Equal(("columns.customer", 15, 13), (error.Field, error.Line, error.Column));
    }

    [Fact]
    public void An_explicit_destination_key_must_be_a_mapped_column()
    {
        var yaml = JobYaml.Minimal + "  key: [order_id]\ncolumns:\n  order_no: id\n  updated_at: updated_at\n";

        var error = JobYaml.ErrorAt(yaml, "destination.key[0]");

        Assert.Equal(12, error.Line);
        Assert.Equal("use order_no", error.Suggestion);
    }

    [Fact]
    public void Every_error_in_a_file_is_reported_at_once()
    {
        var errors = JobYaml.Errors("""
            name: Orders
            sorce:
              type: postgres
            batch_size: 5
            mode: sometimes
            destination:
              type: postgres
              connection: "Host=db;Password=x"
              table: orders copy
              conflict: newest
            """);

        Assert.Equal(
            ["source", "name", "sorce", "batch_size", "mode", "destination.connection", "destination.table", "destination.conflict"],
            errors.Select(e => e.Field));
        Assert.All(errors, e => Assert.NotNull(e.Suggestion));
    }
}
