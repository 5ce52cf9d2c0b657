using Sync.Contracts.Jobs;

namespace Sync.Jobs.Tests;

public sealed class RangeSizeTests
{
    [Fact]
    public void Range_size_reads_a_number_of_key_values()
    {
        var job = JobYaml.Parse(JobYaml.MinimalWith("  primary_key: id", "  primary_key: id\n  range_size: 250000"));

        Assert.Equal(250_000L, job.Source.RangeSize);
    }

    [Fact]
    public void Without_range_size_a_table_is_read_in_one_extraction()
    {
        Assert.Equal(0L, JobYaml.Parse(JobYaml.Minimal).Source.RangeSize);
    }

    [Theory]
    [InlineData("  primary_key: id\n  range_size: 999", "must be a whole number of key values between 1000")]
    [InlineData("  primary_key: id\n  range_size: lots", "must be a whole number of key values")]
    [InlineData("  primary_key: [id, line]\n  range_size: 100000", "a single integer primary key; this one has 2 columns")]
    [InlineData("  primary_key: [id, line]\n  mode: cdc\n  range_size: 100000", "a single integer primary key; this one has 2 columns")]
    public void A_range_size_that_cannot_split_the_table_is_refused_with_the_reason(string lines, string message)
    {
        var error = JobYaml.ErrorAt(JobYaml.MinimalWith("  primary_key: id", lines), "source.range_size");

        Assert.Contains(message, error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_cdc_job_on_a_table_copies_its_first_run_in_chunks_of_range_size_rows()
    {
        var job = JobYaml.Parse("""
            name: orders_cdc
            schedule: continuous
            source:
              type: postgres
              connection: source_db
              table: public.orders
              mode: cdc
              primary_key: [id]
              range_size: 2000
            destination:
              type: postgres
              connection: destination_db
              table: public.orders

            """);

        Assert.Equal((SyncMode.Cdc, 2_000L), (job.Mode, job.Source.RangeSize));
    }

    [Fact]
    public void A_cdc_query_cannot_be_copied_in_chunks()
    {
        var yaml = JobYaml.MinimalWith("  table: orders", "  query: SELECT id, updated_at FROM orders")
            .Replace("  primary_key: id\n", "  primary_key: id\n  mode: cdc\n  range_size: 100000\n", StringComparison.Ordinal);

        Assert.Contains("a query has none to split by", JobYaml.ErrorAt(yaml, "source.range_size").Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_query_source_cannot_be_split_by_key()
    {
        var yaml = JobYaml.MinimalWith("  table: orders", "  query: SELECT id, updated_at FROM orders")
            .Replace("  primary_key: id\n", "  primary_key: id\n  range_size: 100000\n", StringComparison.Ordinal);

        Assert.Contains("a query has none to split by", JobYaml.ErrorAt(yaml, "source.range_size").Message, StringComparison.Ordinal);
    }

    [Fact]
    public void An_s3_destination_is_refused_as_its_manifest_lists_one_extraction()
    {
        var yaml = """
            name: orders
            source:
              type: postgres
              connection: demo_source
              table: orders
              cursor: updated_at
              primary_key: id
              range_size: 100000
            destination:
              type: s3
              connection: lake
              prefix: orders/
              format: jsonl

            """;

        Assert.Contains("run manifest", JobYaml.ErrorAt(yaml, "source.range_size").Message, StringComparison.Ordinal);
    }
}
