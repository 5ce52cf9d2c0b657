using Sync.Connectors.Postgres;
using Sync.Contracts.Jobs;

namespace Sync.Connectors.Tests;

public sealed class SourcePlanTests
{
    private static readonly TableColumn[] Table =
    [
        new("id", 20, "bigint", true),
        new("status", 3500, "order_status", true),
        new("updated_at", 1184, "timestamp with time zone", true),
    ];

    private static readonly SourceSpec Source = new(SourceKind.Postgres, "app", "public.orders", "updated_at", ["id"]);

    [Fact]
    public void Cursor_and_key_come_first_and_unknown_types_travel_as_text()
    {
        var plan = SourcePlan.Resolve(Source, new TransformSpec([]), Table);

        Assert.Equal(["updated_at", "id", "status"], plan.Columns.Select(c => c.Name));
        Assert.Equal(2, plan.PositionLength);
        Assert.Equal(25u, plan.BatchColumns[2].TypeOid);
    }

    [Fact]
    public void The_copy_query_reads_after_the_position_and_before_the_bound_through_settings()
    {
        var plan = SourcePlan.Resolve(Source, new TransformSpec([]), Table);

        var sql = PostgresSource.BuildCopySql(Source, plan, hasAfter: true, CursorBound.BeforeOldestTransaction);

        Assert.Equal(
            "COPY (SELECT \"updated_at\", \"id\", \"status\"::text FROM \"public\".\"orders\" " +
            "WHERE (\"updated_at\", \"id\") > (CAST(current_setting('sync.after_0') AS timestamp with time zone), CAST(current_setting('sync.after_1') AS bigint)) " +
            "AND \"updated_at\" < CAST(current_setting('sync.upper') AS timestamp with time zone) " +
            "ORDER BY \"updated_at\", \"id\") TO STDOUT (FORMAT BINARY)",
            sql);
    }

    [Fact]
    public void A_missing_cursor_column_is_named()
    {
        var error = Assert.Throws<SourceSchemaException>(() =>
            SourcePlan.Resolve(Source with { Cursor = "modified_at" }, new TransformSpec([]), Table));

        Assert.Contains("\"modified_at\"", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_cursor_of_a_type_that_cannot_order_is_refused()
    {
        var error = Assert.Throws<SourceSchemaException>(() =>
            SourcePlan.Resolve(Source with { Cursor = "status" }, new TransformSpec([]), Table));

        Assert.Contains("cannot order a cursor", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void With_a_lookback_the_copy_query_reads_the_window_before_the_watermark_again()
    {
        var source = Source with { Lookback = TimeSpan.FromMinutes(10) };
        var plan = SourcePlan.Resolve(source, new TransformSpec([]), Table);

        var sql = PostgresSource.BuildCopySql(source, plan, hasAfter: true, CursorBound.BeforeOldestTransaction);

        Assert.Contains(
            "WHERE \"updated_at\" >= CAST(current_setting('sync.after_0') AS timestamp with time zone) - CAST(current_setting('sync.lookback') AS interval) AND",
            sql,
            StringComparison.Ordinal);
    }

    [Fact]
    public void A_lookback_on_a_cursor_that_is_not_a_timestamp_is_refused()
    {
        var source = Source with { Cursor = "id", Lookback = TimeSpan.FromMinutes(10) };

        var error = Assert.Throws<SourceSchemaException>(() => SourcePlan.Resolve(source, new TransformSpec([]), Table));

        Assert.Contains("source.lookback needs a timestamp or date cursor", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_cursor_that_is_the_key_is_read_once_in_the_position()
    {
        var plan = SourcePlan.Resolve(Source with { Cursor = "id" }, new TransformSpec([]), Table);

        Assert.Equal(1, plan.PositionLength);
        Assert.Equal(["id", "status", "updated_at"], plan.Columns.Select(c => c.Name));
    }
}
