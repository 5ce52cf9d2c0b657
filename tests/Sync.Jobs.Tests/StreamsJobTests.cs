using Sync.Contracts;
using Sync.Contracts.Jobs;

namespace Sync.Jobs.Tests;

/// <summary>Job files with <c>streams:</c>: what they parse to, how they expand against a source catalog, and what they refuse with a fix.</summary>
public sealed class StreamsJobTests
{
    private const string Shop = """
        name: shop
        batch_size: 500
        source:
          type: postgres
          connection: demo_source
        destination:
          type: postgres
          connection: demo_destination
          schema: mirror
          conflict: source-wins
        streams:
          - public.*
          - table: public.orders
            cursor: changed_at
            batch_size: 200
          - table: public.legacy
            primary_key: [code]
            mode: full_refresh
            deletes: delete
            destination_table: mirror.legacy_copy
        exclude: [public.audit_*]

        """;

    private static readonly DiscoveredColumn Id = new("id", "bigint");
    private static readonly DiscoveredColumn UpdatedAt = new("updated_at", "timestamp with time zone");

    private static readonly DiscoveredTable[] Catalog =
    [
        new("public", "users", [Id, new("email", "text"), UpdatedAt], ["id"]),
        new("public", "orders", [Id, new("changed_at", "timestamp with time zone"), new("total", "numeric")], ["id"]),
        new("public", "legacy", [new("code", "text"), UpdatedAt], []),
        new("public", "audit_log", [new("entry", "text")], []),
        new("other", "users", [Id, UpdatedAt], ["id"]),
    ];

    private static StreamsJob ParseStreams(string yaml)
    {
        var result = JobFile.Parse(yaml, "jobs/shop.yml");
        Assert.True(result.Streams is not null, string.Join(Environment.NewLine, result.Errors));
        Assert.Null(result.Job);
        return result.Streams;
    }

    private static IReadOnlyList<JobFileError> ExpansionErrors(string yaml, params DiscoveredTable[] catalog)
    {
        var result = StreamExpansion.Expand(ParseStreams(yaml), catalog);
        Assert.False(result.IsValid);
        Assert.Empty(result.Jobs);
        return result.Errors;
    }

    [Fact]
    public void Each_matched_table_becomes_a_job_of_its_own_with_defaults_overrides_and_catalog_keys()
    {
        var result = StreamExpansion.Expand(ParseStreams(Shop), Catalog);

        Assert.True(result.IsValid, string.Join(Environment.NewLine, result.Errors));
        Assert.Equal(["shop.legacy", "shop.orders", "shop.users"], result.Jobs.Select(j => j.Name));
        var users = result.Jobs.Single(j => j.Name == "shop.users");
        Assert.Equal(("public.users", "updated_at", "id", "mirror.users", "id"), (users.Source.Table, users.Source.Cursor, Assert.Single(users.Source.PrimaryKey), users.Destination.Table, Assert.Single(users.Destination.Key)));
        Assert.Equal((500, ConflictStrategy.SourceWins, SyncMode.Incremental, "demo_source", "demo_destination"), (users.BatchSize, users.Destination.Conflict, users.Mode, users.Source.Connection, users.Destination.Connection));
        var orders = result.Jobs.Single(j => j.Name == "shop.orders");
        Assert.Equal(("changed_at", 200, "mirror.orders"), (orders.Source.Cursor, orders.BatchSize, orders.Destination.Table));
        var legacy = result.Jobs.Single(j => j.Name == "shop.legacy");
        Assert.Equal(("code", SyncMode.FullRefresh, DeleteMode.Delete, "mirror.legacy_copy"), (Assert.Single(legacy.Source.PrimaryKey), legacy.Mode, legacy.Destination.Deletes, legacy.Destination.Table));
        Assert.Empty(users.Transform.Columns);
    }

    [Fact]
    public void A_destination_schema_not_given_is_the_source_tables_own()
    {
        var result = StreamExpansion.Expand(ParseStreams(Shop.Replace("  schema: mirror\n", "", StringComparison.Ordinal).Replace("mirror.legacy_copy", "public.legacy_copy", StringComparison.Ordinal)), Catalog);

        Assert.True(result.IsValid, string.Join(Environment.NewLine, result.Errors));
        Assert.Equal("public.users", result.Jobs.Single(j => j.Name == "shop.users").Destination.Table);
    }

    [Fact]
    public void A_pattern_reads_only_its_schema_and_the_catalog_request_names_it()
    {
        var job = ParseStreams(Shop);

        Assert.Equal(["public"], job.Schemas);
        Assert.DoesNotContain(StreamExpansion.Expand(job, Catalog).Jobs, j => j.Source.Table == "other.users");
    }

    [Fact]
    public void A_table_without_a_primary_key_is_refused_naming_the_table_and_the_fix()
    {
        var error = Assert.Single(ExpansionErrors(Shop.Replace("exclude: [public.audit_*]", "exclude: [public.audit_log]", StringComparison.Ordinal), [.. Catalog, new("public", "notes", [Id, UpdatedAt], [])]));

        Assert.Equal(("jobs/shop.yml", 12, 5, "streams[0]"), (error.File, error.Line, error.Column, error.Field));
        Assert.Contains("public.notes has no primary key", error.Message, StringComparison.Ordinal);
        Assert.Contains("- table: public.notes", error.Suggestion, StringComparison.Ordinal);
        Assert.Contains("exclude:", error.Suggestion, StringComparison.Ordinal);
    }

    [Fact]
    public void A_table_without_an_unambiguous_cursor_is_refused_naming_its_columns()
    {
        var errors = ExpansionErrors(Shop, [.. Catalog, new("public", "tags", [Id, new("updated_at", "bigint")], ["id"]), new("public", "readings", [Id, new("updated_at", "timestamp without time zone")], ["id"])]);

        Assert.Equal(2, errors.Count);
        var error = Assert.Single(errors, e => e.Message.Contains("public.tags has no cursor", StringComparison.Ordinal));
        Assert.Contains("updated_at bigint", error.Suggestion, StringComparison.Ordinal);
        // A timestamp without time zone is often stamped by clients: taken only when named (with a lookback chosen by someone).
        Assert.Contains(errors, e => e.Message.Contains("public.readings has no cursor", StringComparison.Ordinal));
    }

    [Fact]
    public void A_named_table_missing_from_the_source_is_refused()
    {
        var error = Assert.Single(ExpansionErrors(Shop, [.. Catalog.Where(t => t.Name != "orders")]));

        Assert.Equal("streams[1]", error.Field);
        Assert.Contains("table public.orders does not exist in connection \"demo_source\"", error.Message, StringComparison.Ordinal);
    }

    private const string CdcShop = """
        name: shop
        mode: cdc
        schedule: continuous
        source:
          type: postgres
          connection: demo_source
        destination:
          type: postgres
          connection: demo_destination
          schema: mirror
        streams:
          - public.*
          - table: public.legacy
            primary_key: [code]
            batch_size: 200
        exclude: [public.audit_*]

        """;

    [Fact]
    public void Range_size_is_refused_with_streams_naming_the_fix()
    {
        var result = JobFile.Parse(CdcShop.Replace("  connection: demo_source\n", "  connection: demo_source\n  range_size: 10000\n", StringComparison.Ordinal), "jobs/shop.yml");

        var error = Assert.Single(result.Errors, e => e.Field == "source.range_size");
        Assert.Contains("is not used with streams:", error.Message, StringComparison.Ordinal);
        Assert.Contains("a job file of its own with range_size", error.Suggestion, StringComparison.Ordinal);
    }

    [Fact]
    public void A_cdc_streams_job_expands_to_one_job_whose_streams_share_its_slot()
    {
        var result = StreamExpansion.Expand(ParseStreams(CdcShop), Catalog);

        Assert.True(result.IsValid, string.Join(Environment.NewLine, result.Errors));
        var job = Assert.Single(result.Jobs);
        Assert.Equal(("shop", SyncMode.Cdc, "continuous"), (job.Name, job.Mode, job.Schedule));
        Assert.Equal(("demo_source", "demo_destination"), (job.Source.Connection, job.Destination.Connection));
        var streams = job.Streams!.ToDictionary(s => s.Name);
        Assert.Equal(["shop.legacy", "shop.orders", "shop.users"], streams.Keys.Order(StringComparer.Ordinal));
        Assert.All(streams.Values, s => Assert.Equal((SyncMode.Cdc, ConflictStrategy.SourceWins, DeleteMode.Delete), (s.Mode, s.Destination.Conflict, s.Destination.Deletes)));
        // No cursor is needed to follow changes: orders has no updated_at, and a cursor-read job would refuse it.
        Assert.Equal(("", "mirror.orders"), (streams["shop.orders"].Source.Cursor, streams["shop.orders"].Destination.Table));
        Assert.Equal(["id"], streams["shop.orders"].Source.PrimaryKey);
        Assert.Equal(["code"], streams["shop.legacy"].Source.PrimaryKey);
        Assert.Equal(200, streams["shop.legacy"].BatchSize);
    }

    [Fact]
    public void Mode_cdc_under_one_stream_or_source_is_refused_with_the_top_of_the_file_as_the_fix()
    {
        var underStream = JobFile.Parse(Shop.Replace("    batch_size: 200", "    mode: cdc", StringComparison.Ordinal), "jobs/shop.yml");
        var underSource = JobFile.Parse(Shop.Replace("  connection: demo_source", "  connection: demo_source\n  mode: cdc", StringComparison.Ordinal), "jobs/shop.yml");
        var otherMode = JobFile.Parse(CdcShop.Replace("    batch_size: 200", "    mode: full_refresh", StringComparison.Ordinal), "jobs/shop.yml");
        var keep = JobFile.Parse(CdcShop.Replace("  schema: mirror", "  schema: mirror\n  deletes: keep", StringComparison.Ordinal), "jobs/shop.yml");

        var stream = Assert.Single(underStream.Errors);
        Assert.Equal("streams[1].mode", stream.Field);
        Assert.Contains("mode: cdc at the top of the file", stream.Suggestion, StringComparison.Ordinal);
        Assert.Equal("source.mode", Assert.Single(underSource.Errors).Field);
        Assert.Equal("streams[1].mode", Assert.Single(otherMode.Errors).Field);
        Assert.Contains("applies the deletes it streams", keep.Errors[0].Message, StringComparison.Ordinal);
        Assert.False(underStream.HasJob || underSource.HasJob || otherMode.HasJob || keep.HasJob);
    }

    [Fact]
    public void One_table_settings_and_a_destination_table_are_refused_with_streams()
    {
        var yaml = Shop.Replace("  schema: mirror", "  table: public.orders", StringComparison.Ordinal) + "columns:\n  id: id\n";

        var errors = JobFile.Parse(yaml, "jobs/shop.yml").Errors;

        Assert.Contains(errors, e => e.Field == "destination.table" && e.Suggestion!.Contains("destination_table:", StringComparison.Ordinal));
        Assert.Contains(errors, e => e.Field == "columns" && e.Suggestion!.Contains("exclude:", StringComparison.Ordinal));
    }

    [Fact]
    public void Deletes_without_full_refresh_and_a_bad_pattern_are_refused_at_parse()
    {
        var yaml = Shop.Replace("    mode: full_refresh\n", "", StringComparison.Ordinal).Replace("  - public.*", "  - public.*.x", StringComparison.Ordinal);

        var errors = JobFile.Parse(yaml, "jobs/shop.yml").Errors;

        Assert.Contains(errors, e => e.Field == "streams[2]" && e.Message.Contains("needs mode: full_refresh", StringComparison.Ordinal));
        Assert.Contains(errors, e => e.Field == "streams[0]" && e.Message.Contains("a pattern like public.*", StringComparison.Ordinal));
    }

    [Fact]
    public void Two_tables_giving_one_stream_name_are_refused_with_name_as_the_fix()
    {
        var yaml = Shop.Replace("  - public.*\n", "  - public.*\n  - other.*\n", StringComparison.Ordinal);

        var error = Assert.Single(ExpansionErrors(yaml, Catalog), e => e.Message.Contains("would both be stream \"shop.users\"", StringComparison.Ordinal));

        Assert.Contains("name:", error.Suggestion, StringComparison.Ordinal);
    }

    [Fact]
    public void The_discovered_job_file_is_valid_and_resolves_every_table_it_does_not_comment_out()
    {
        var yaml = StreamsDiscovery.Render("shop", "demo_source", "demo_destination", "public", [.. Catalog.Where(t => t.Schema == "public")]);

        var result = StreamExpansion.Expand(ParseStreams(yaml), Catalog);

        Assert.True(result.IsValid, string.Join(Environment.NewLine, result.Errors));
        Assert.Equal(["shop.users"], result.Jobs.Select(j => j.Name));
        Assert.Contains("# - public.legacy    # no primary key", yaml, StringComparison.Ordinal);
        Assert.Contains("# - public.orders    # no updated_at timestamptz column", yaml, StringComparison.Ordinal);
    }

    [Fact]
    public void A_directory_lists_a_streams_job_apart_from_jobs_of_one_table()
    {
        var directory = Directory.CreateTempSubdirectory("sync-streams-");
        try
        {
            File.WriteAllText(Path.Combine(directory.FullName, "shop.yml"), Shop);
            File.WriteAllText(Path.Combine(directory.FullName, "orders.yml"), JobYaml.Minimal);

            var result = JobDirectory.Load(directory.FullName);

            Assert.True(result.IsValid, string.Join(Environment.NewLine, result.Errors));
            Assert.Equal(("orders", "shop"), (Assert.Single(result.Jobs).Key, Assert.Single(result.Streams).Key));
        }
        finally
        {
            directory.Delete(recursive: true);
        }
    }
}
