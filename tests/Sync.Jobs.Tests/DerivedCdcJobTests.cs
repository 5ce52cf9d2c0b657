using Sync.Contracts.Jobs;

namespace Sync.Jobs.Tests;

/// <summary>A query read with <c>mode: cdc</c> and <c>depends_on:</c> (derived facts): what it parses to, and each malformed shape refused with a fix.</summary>
public sealed class DerivedCdcJobTests
{
    private const string Valid = """
        name: orders_fact
        schedule: continuous
        source:
          type: postgres
          connection: source_db
          mode: cdc
          query: |
            SELECT o.id AS order_id, count(i.id) AS item_count
            FROM orders o JOIN users u ON u.id = o.customer_id LEFT JOIN order_items i ON i.order_id = o.id
            GROUP BY o.id
          primary_key: [order_id]
          depends_on:
            - table: public.orders
              fact_key: [id]
            - table: public.order_items
              fact_key: [order_id]
            - table: public.users
              fact_keys_query: "SELECT id FROM public.orders WHERE customer_id = ANY(@id)"
        destination:
          type: postgres
          connection: destination_db
          table: public.orders_fact
          key: [order_id]

        """;

    [Fact]
    public void A_cdc_query_with_depends_on_parses_to_its_dependencies()
    {
        var job = JobYaml.Parse(Valid);

        Assert.Equal(SyncMode.Cdc, job.Mode);
        Assert.NotNull(job.Source.Query);
        var dependencies = job.Source.DependsOn!;
        Assert.Equal(["public.orders", "public.order_items", "public.users"], dependencies.Select(d => d.Table));
        Assert.Equal(["order_id"], dependencies[1].FactKey!);
        Assert.Equal(["id"], FactKeysQueryParameters.KeyColumns(dependencies[2]));
    }

    [Fact]
    public void A_cdc_query_without_depends_on_is_refused()
    {
        var error = JobYaml.ErrorAt(Valid[..Valid.IndexOf("  depends_on:", StringComparison.Ordinal)] + Valid[Valid.IndexOf("destination:", StringComparison.Ordinal)..], "source.mode");

        Assert.Contains("cdc of a query needs depends_on", error.Message, StringComparison.Ordinal);
        Assert.Contains("fact_key", error.Suggestion, StringComparison.Ordinal);
    }

    [Fact]
    public void A_dependency_without_fact_key_is_refused()
    {
        var error = JobYaml.ErrorAt(Valid.Replace("      fact_key: [order_id]\n", "", StringComparison.Ordinal), "source.depends_on[1].fact_key");

        Assert.Contains("is required", error.Message, StringComparison.Ordinal);
        Assert.Contains("fact_keys_query", error.Suggestion, StringComparison.Ordinal);
    }

    [Fact]
    public void A_fact_key_of_another_arity_than_the_primary_key_is_refused()
    {
        var error = JobYaml.ErrorAt(Valid.Replace("fact_key: [order_id]", "fact_key: [order_id, product]", StringComparison.Ordinal), "source.depends_on[1].fact_key");

        Assert.Contains("names 2 columns, but the fact key (primary_key) has 1: [order_id]", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_dependency_that_is_not_a_mapping_or_has_unknown_keys_is_refused()
    {
        var scalar = JobYaml.ErrorAt(Valid.Replace("    - table: public.orders\n      fact_key: [id]\n", "    - public.orders\n", StringComparison.Ordinal), "source.depends_on[0]");
        var unknown = JobYaml.ErrorAt(Valid.Replace("fact_key: [id]", "fact_key: [id]\n      via: customer_id", StringComparison.Ordinal), "source.depends_on[0].via");
        var notList = JobYaml.ErrorAt(Valid.Replace("  depends_on:\n", "  depends_on: public.orders\n  ignored:\n", StringComparison.Ordinal), "source.depends_on");

        Assert.Contains("must be a mapping", scalar.Message, StringComparison.Ordinal);
        Assert.Contains("unknown key", unknown.Message, StringComparison.Ordinal);
        Assert.Contains("must be a list of mappings", notList.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_fact_keys_query_without_a_column_parameter_or_with_fact_key_is_refused()
    {
        var noParameter = JobYaml.ErrorAt(Valid.Replace("ANY(@id)", "ANY(ARRAY[1])", StringComparison.Ordinal), "source.depends_on[2].fact_keys_query");
        var both = JobYaml.ErrorAt(Valid.Replace("      fact_keys_query:", "      fact_key: [id]\n      fact_keys_query:", StringComparison.Ordinal), "source.depends_on[2].fact_keys_query");

        Assert.Contains("names no @column", noParameter.Message, StringComparison.Ordinal);
        Assert.Contains("cannot be used together with fact_key", both.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Depends_on_without_cdc_is_refused()
    {
        var error = JobYaml.ErrorAt(Valid.Replace("  mode: cdc\n", "  cursor: order_id\n", StringComparison.Ordinal).Replace("schedule: continuous\n", "", StringComparison.Ordinal), "source.depends_on");

        Assert.Contains("only for a query read with mode: cdc", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void The_example_derived_job_file_is_valid()
    {
        var directory = new DirectoryInfo(AppContext.BaseDirectory);
        while (directory is not null && !File.Exists(Path.Combine(directory.FullName, "Sync.sln")))
        {
            directory = directory.Parent;
        }

        var job = JobYaml.Parse(File.ReadAllText(Path.Combine(directory!.FullName, "jobs", "examples", "orders_fact_cdc.yml")));

        Assert.Equal((SyncMode.Cdc, 3), (job.Mode, job.Source.DependsOn!.Count));
    }
}
