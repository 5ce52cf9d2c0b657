using Sync.Contracts.Jobs;

namespace Sync.Jobs.Tests;

public sealed class JobFileTests
{
    [Fact]
    public void A_full_job_file_parses_to_the_exact_spec()
    {
        var job = JobYaml.Parse("""
            name: orders_to_reporting
            schedule: "*/15 * * * *"
            batch_size: 500
            mode: incremental
            source:
              type: postgres
              connection: demo_source
              table: public.orders
              cursor: updated_at
              primary_key: [id, region]
            destination:
              type: postgres
              connection: demo_destination
              table: reporting.orders_copy
              key: [order_id, region]
              conflict: source-wins
            columns:
              order_id: id
              region: region
              customer: customer_name
              updated_at: updated_at
            """);

        Assert.Equal("orders_to_reporting", job.Name);
        Assert.Equal("*/15 * * * *", job.Schedule);
        Assert.Equal(500, job.BatchSize);
        Assert.Equal(SyncMode.Incremental, job.Mode);
        Assert.Equal(SourceKind.Postgres, job.Source.Kind);
        Assert.Equal("demo_source", job.Source.Connection);
        Assert.Equal("public.orders", job.Source.Table);
        Assert.Equal("updated_at", job.Source.Cursor);
        Assert.Equal(["id", "region"], job.Source.PrimaryKey);
        Assert.Equal(DestinationKind.Postgres, job.Destination.Kind);
        Assert.Equal("demo_destination", job.Destination.Connection);
        Assert.Equal("reporting.orders_copy", job.Destination.Table);
        Assert.Equal(["order_id", "region"], job.Destination.Key);
        Assert.Equal(ConflictStrategy.SourceWins, job.Destination.Conflict);
        Assert.Equal(
            [
                new ColumnMapping("order_id", "id"),
                new ColumnMapping("region", "region"),
                new ColumnMapping("customer", "customer_name"),
                new ColumnMapping("updated_at", "updated_at"),
            ],
            job.Transform.Columns);
    }

    [Fact]
    public void Omitted_settings_take_their_defaults()
    {
        var job = JobYaml.Parse(JobYaml.Minimal);

        Assert.Equal("orders", job.Name);
        Assert.Null(job.Schedule);
        Assert.Equal(1000, job.BatchSize);
        Assert.Equal(SyncMode.Incremental, job.Mode);
        Assert.Equal(ConflictStrategy.LatestWins, job.Destination.Conflict);
        Assert.Equal(["id"], job.Source.PrimaryKey);
        Assert.Equal(["id"], job.Destination.Key);
    }

    [Fact]
    public void Without_columns_the_mapping_is_empty_meaning_all_source_columns()
    {
        var job = JobYaml.Parse(JobYaml.Minimal);

        Assert.Empty(job.Transform.Columns);
    }

    [Fact]
    public void The_default_destination_key_is_the_primary_key_renamed_by_columns()
    {
        var job = JobYaml.Parse(JobYaml.Minimal + """
            columns:
              order_id: id
              changed_at: updated_at
            """);

        Assert.Equal(["order_id"], job.Destination.Key);
        Assert.Equal([new ColumnMapping("order_id", "id"), new ColumnMapping("changed_at", "updated_at")], job.Transform.Columns);
    }

    [Theory]
    [InlineData("schedule: \"@hourly\"", "@hourly")]
    [InlineData("schedule: \"@daily\"", "@daily")]
    [InlineData("schedule: 0 3 * * 1-5", "0 3 * * 1-5")]
    [InlineData("schedule: ~", null)]
    [InlineData("schedule:", null)]
    public void Schedules_are_cron_or_a_macro_or_nothing(string line, string? expected)
    {
        var job = JobYaml.Parse(JobYaml.Minimal + line + "\n");

        Assert.Equal(expected, job.Schedule);
    }

    [Theory]
    [InlineData("latest-wins", ConflictStrategy.LatestWins)]
    [InlineData("source-wins", ConflictStrategy.SourceWins)]
    [InlineData("dest-wins", ConflictStrategy.DestinationWins)]
    [InlineData("merge", ConflictStrategy.Merge)]
    public void Conflict_words_map_to_strategies(string word, ConflictStrategy expected)
    {
        var job = JobYaml.Parse(JobYaml.Minimal + $"  conflict: {word}\n");

        Assert.Equal(expected, job.Destination.Conflict);
    }

    [Fact]
    public void Batch_size_limits_are_inclusive()
    {
        Assert.Equal(100, JobYaml.Parse(JobYaml.Minimal + "batch_size: 100\n").BatchSize);
        Assert.Equal(10_000, JobYaml.Parse(JobYaml.Minimal + "batch_size: 10000\n").BatchSize);
    }
}
