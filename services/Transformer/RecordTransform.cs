using Sync.Batches;
using Sync.Contracts;
using Sync.Contracts.Jobs;

namespace Sync.Transformer;

/// <summary>
/// One job's mapping for one batch shape. Without casts it is a <see cref="ColumnProjection"/>;
/// with casts each record is built field by field, and a record whose cast fails is left out of
/// the output and returned as a <see cref="RejectedRecord"/> in the input's schema, so a replay
/// can transform it again with the job as it is then.
/// </summary>
internal sealed class RecordTransform
{
    public const string Stage = "transform";

    private readonly ColumnProjection _projection;
    private readonly int[] _inputIndexes;
    private readonly uint[] _inputOids;
    private readonly uint?[] _castTo;
    private readonly IReadOnlyList<BatchColumn> _outputColumns;
    private readonly bool _casts;

    public RecordTransform(IReadOnlyList<BatchColumn> input, IReadOnlyList<ColumnMapping> mapping)
    {
        _projection = new ColumnProjection(input, [.. mapping.Select(m => (m.Target, m.Source))]);
        _inputIndexes = new int[mapping.Count];
        _inputOids = new uint[mapping.Count];
        _castTo = new uint?[mapping.Count];
        var output = new BatchColumn[mapping.Count];
        for (var i = 0; i < mapping.Count; i++)
        {
            _inputIndexes[i] = input.Select(c => c.Name).ToList().IndexOf(mapping[i].Source);
            _inputOids[i] = input[_inputIndexes[i]].TypeOid;
            _castTo[i] = mapping[i].Cast is { } cast ? PgValueCast.TargetOid(cast) : null;
            output[i] = new BatchColumn(mapping[i].Target, _castTo[i] ?? _inputOids[i]);
        }

        _outputColumns = output;
        _casts = _castTo.Any(c => c is not null);
    }

    public TransformOutcome Apply(RecordBatch batch)
    {
        if (!_casts)
        {
            return new TransformOutcome(_projection.Apply(batch), []);
        }

        var rows = batch.Rows;
        var output = new TupleBuffer(rows.Length);
        var rejected = new List<RejectedRecord>();
        var fields = new FieldSlice[batch.Columns.Count];
        var values = new byte[]?[_inputIndexes.Length];
        var reader = new TupleReader(rows);
        var index = 0;
        // A change batch's operation markers follow the rows that stay.
        var operations = batch.Operations is null ? null : new List<byte>(batch.RowCount);
        while (reader.TryRead(fields, out _, out var tuple))
        {
            if (TryConvert(rows, fields, values, out var error))
            {
                operations?.Add(batch.Operations![index]);
                output.BeginTuple(values.Length);
                for (var i = 0; i < values.Length; i++)
                {
                    output.AppendField(values[i], values[i] is null);
                }
            }
            else
            {
                var record = new RecordBatch(batch.Columns, 1, rows[tuple]);
                rejected.Add(new RejectedRecord(Stage, index, error, record));
            }

            index++;
        }

        return new TransformOutcome(new RecordBatch(_outputColumns, output.RowCount, output.ToArray(), operations is null ? null : [.. operations]), rejected);
    }

    private bool TryConvert(byte[] rows, FieldSlice[] fields, byte[]?[] values, out string error)
    {
        for (var i = 0; i < _inputIndexes.Length; i++)
        {
            var field = fields[_inputIndexes[i]];
            if (field.IsNull)
            {
                values[i] = null;
                continue;
            }

            var bytes = field.Of(rows);
            try
            {
                values[i] = _castTo[i] is { } target ? PgValueCast.Convert(_inputOids[i], bytes, target) : bytes.ToArray();
            }
            catch (ValueCastException exception)
            {
                error = $"column {_outputColumns[i].Name}: {exception.Message}";
                return false;
            }
        }

        error = "";
        return true;
    }
}
