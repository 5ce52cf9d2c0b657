using Sync.Contracts;

namespace Sync.Batches.Tests;

public sealed class ColumnProjectionTests
{
    private static readonly BatchColumn[] Columns = [new("id", 20), new("name", 25), new("note", 25)];

    [Fact]
    public void Selects_reorders_and_renames_columns_keeping_nulls()
    {
        var batch = new RecordBatch(Columns, 2, Tuples.Rows(
            [Tuples.Int8(1), Tuples.Text("a"), null],
            [Tuples.Int8(2), null, Tuples.Text("n")]));
        var projection = new ColumnProjection(Columns, [("remark", "note"), ("key", "id")]);

        var output = projection.Apply(batch);

        Assert.Equal([new BatchColumn("remark", 25), new BatchColumn("key", 20)], output.Columns);
        Assert.Equal(2, output.RowCount);
        Assert.Equal(Tuples.Rows([null, Tuples.Int8(1)], [Tuples.Text("n"), Tuples.Int8(2)]), output.Rows);
    }

    [Fact]
    public void A_change_batch_keeps_its_operation_markers()
    {
        byte[] operations = [RowOperations.Upsert, RowOperations.Delete];
        var batch = new RecordBatch(Columns, 2, Tuples.Rows([Tuples.Int8(1), Tuples.Text("a"), null], [Tuples.Int8(2), null, null]), operations);

        var output = new ColumnProjection(Columns, [("key", "id")]).Apply(batch);

        Assert.Equal(operations, output.Operations);
    }

    [Fact]
    public void Renaming_every_column_in_place_copies_no_rows()
    {
        var batch = new RecordBatch(Columns, 1, Tuples.Rows([Tuples.Int8(1), Tuples.Text("a"), null]));
        var projection = new ColumnProjection(Columns, [("a", "id"), ("b", "name"), ("c", "note")]);

        var output = projection.Apply(batch);

        Assert.Same(batch.Rows, output.Rows);
        Assert.Equal(["a", "b", "c"], output.Columns.Select(c => c.Name));
    }

    [Fact]
    public void A_mapping_from_a_missing_column_names_it()
    {
        var error = Assert.Throws<KeyNotFoundException>(() => new ColumnProjection(Columns, [("x", "missing")]));

        Assert.Contains("\"missing\"", error.Message, StringComparison.Ordinal);
    }
}
