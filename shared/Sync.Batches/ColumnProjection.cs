using Sync.Contracts;

namespace Sync.Batches;

/// <summary>
/// Selects and renames a batch's columns: each output column is an input column under a new name.
/// Selecting copies field bytes; renaming touches only the schema.
/// </summary>
public sealed class ColumnProjection
{
    private readonly int[] _inputIndexes;
    private readonly IReadOnlyList<BatchColumn> _outputColumns;
    private readonly bool _identity;

    public ColumnProjection(IReadOnlyList<BatchColumn> input, IReadOnlyList<(string Target, string Source)> mapping)
    {
        _inputIndexes = new int[mapping.Count];
        var output = new BatchColumn[mapping.Count];
        for (var i = 0; i < mapping.Count; i++)
        {
            var index = FindColumn(input, mapping[i].Source);
            _inputIndexes[i] = index;
            output[i] = new BatchColumn(mapping[i].Target, input[index].TypeOid);
        }

        _outputColumns = output;
        _identity = mapping.Count == input.Count && _inputIndexes.Select((index, i) => index == i).All(same => same);
    }

    public IReadOnlyList<BatchColumn> OutputColumns => _outputColumns;

    public RecordBatch Apply(RecordBatch batch)
    {
        if (_identity)
        {
            return batch with { Columns = _outputColumns };
        }

        var rows = batch.Rows.AsSpan();
        var output = new TupleBuffer(batch.Rows.Length);
        var fields = new FieldSlice[batch.Columns.Count];
        var reader = new TupleReader(rows);
        while (reader.TryRead(fields, out _, out _))
        {
            output.BeginTuple(_inputIndexes.Length);
            foreach (var index in _inputIndexes)
            {
                var field = fields[index];
                output.AppendField(field.Of(rows), field.IsNull);
            }
        }

        return new RecordBatch(_outputColumns, output.RowCount, output.ToArray(), batch.Operations);
    }

    private static int FindColumn(IReadOnlyList<BatchColumn> columns, string name)
    {
        for (var i = 0; i < columns.Count; i++)
        {
            if (columns[i].Name == name)
            {
                return i;
            }
        }

        throw new KeyNotFoundException($"The batch has no column \"{name}\" (it has {string.Join(", ", columns.Select(c => c.Name))}).");
    }
}
