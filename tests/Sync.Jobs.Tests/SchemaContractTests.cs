using Sync.Contracts.Jobs;

namespace Sync.Jobs.Tests;

/// <summary>destination.schema: what a batch whose columns differ from the destination table does to it (issue 18, item 2).</summary>
public sealed class SchemaContractTests
{
    [Theory]
    [InlineData(null, SchemaContract.Evolve)]
    [InlineData("evolve", SchemaContract.Evolve)]
    [InlineData("freeze", SchemaContract.Freeze)]
    [InlineData("discard_row", SchemaContract.DiscardRow)]
    [InlineData("discard_value", SchemaContract.DiscardValue)]
    public void The_contract_parses_and_is_evolve_by_default(string? value, SchemaContract expected)
    {
        var yaml = value is null ? JobYaml.Minimal : JobYaml.MinimalWith("  table: orders_copy", $"  table: orders_copy\n  schema: {value}");

        Assert.Equal(expected, JobYaml.Parse(yaml).Destination.Schema);
    }

    [Fact]
    public void An_unknown_contract_is_refused_with_the_closest_one()
    {
        var error = JobYaml.ErrorAt(JobYaml.MinimalWith("  table: orders_copy", "  table: orders_copy\n  schema: freez"), "destination.schema");

        Assert.Contains("evolve, freeze, discard_row, discard_value", error.Message, StringComparison.Ordinal);
        Assert.Equal("use freeze", error.Suggestion);
    }

    [Fact]
    public void A_contract_under_an_s3_destination_is_refused()
    {
        var yaml = JobYaml.Minimal.Replace("  type: postgres\n  connection: demo_destination\n  table: orders_copy\n", "  type: s3\n  connection: lake\n  prefix: exports/\n  schema: freeze\n", StringComparison.Ordinal);

        Assert.Contains("s3 destination", JobYaml.ErrorAt(yaml, "destination.schema").Message, StringComparison.Ordinal);
    }
}
