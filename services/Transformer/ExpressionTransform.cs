using Sync.Batches;
using Sync.Contracts;
using Sync.Contracts.Jobs;
using Sync.Expressions;

namespace Sync.Transformer;

/// <summary>
/// A job's transform with expressions, a filter or lookups, for one batch shape. Its input is the
/// batch's columns followed by the lookups' columns; each output column is a copy (with an optional
/// cast) or an expression. A record the filter does not accept is dropped; one whose expression or
/// cast fails is returned as a <see cref="RejectedRecord"/> in the batch's schema (the lookups are
/// read again on replay). A change batch's delete passes the filter (it names a key, not values)
/// and is not evaluated: it keeps its key columns (copied, cast where mapped so) and its place,
/// and carries its operation on.
/// </summary>
internal sealed class ExpressionTransform
{
    private readonly IReadOnlyList<BatchColumn> _input;
    private readonly uint[] _oids;
    private readonly CompiledExpression? _filter;
    private readonly OutputColumn[] _outputs;

    /// <exception cref="TransformDefinitionException">An expression does not fit the schema (unknown column, type mismatch).</exception>
    public ExpressionTransform(IReadOnlyList<BatchColumn> input, TransformSpec spec, IReadOnlyList<BatchColumn> lookupColumns)
    {
        _input = input;
        IReadOnlyList<BatchColumn> all = [.. input, .. lookupColumns];
        _oids = [.. all.Select(c => c.TypeOid)];
        var byName = new Dictionary<string, int>(StringComparer.Ordinal);
        for (var i = 0; i < all.Count; i++)
        {
            byName.TryAdd(all[i].Name, i);
        }

        (int, ExprType)? Resolve(string name)
        {
            if (!byName.TryGetValue(name, out var index))
            {
                return null;
            }

            return PgValueCodec.TypeOf(all[index].TypeOid) is { } type
                ? (index, type)
                : throw new ExpressionException($"column \"{name}\" has type {PgTypes.SqlName(all[index].TypeOid)}, which expressions cannot read; copy it with a plain mapping", 1);
        }

        if (spec.Filter is { } filter)
        {
            _filter = Compile("filter", filter, Resolve);
            if (_filter.Type is not (ExprType.Boolean or ExprType.Null))
            {
                throw new TransformDefinitionException($"filter: must be true or false, but \"{filter}\" is {_filter.Type.SqlName()}; compare it, e.g. {filter} is not null");
            }
        }

        IEnumerable<ColumnMapping> mapping = spec.Columns.Count == 0 ? all.Select(c => new ColumnMapping(c.Name, c.Name)) : spec.Columns;
        _outputs = [.. mapping.Select(m => Output(m, byName, _oids, Resolve))];
        Columns = [.. _outputs.Select(o => o.Column)];
    }

    public IReadOnlyList<BatchColumn> Columns { get; }

    /// <param name="lookups">Per lookup column, its binary value for each record of the batch (null: none).</param>
    public TransformOutcome Apply(RecordBatch batch, IReadOnlyList<byte[]?[]> lookups, DateTimeOffset now)
    {
        var rows = batch.Rows;
        var output = new TupleBuffer(rows.Length + 1024);
        var rejected = new List<RejectedRecord>();
        var fields = new FieldSlice[batch.Columns.Count];
        var values = new byte[]?[_outputs.Length];
        var row = new BatchRow(rows, fields, _oids, _input.Count, lookups);
        row.SetNow(now);
        var reader = new TupleReader(rows);
        var filtered = 0;
        var origins = new List<(int, Range)>(batch.RowCount);
        var operations = batch.Operations is null ? null : new List<byte>(batch.RowCount);
        while (reader.TryRead(fields, out _, out var tuple))
        {
            var keep = true;
            var failed = operations is not null && !RowOperations.IsUpsert(batch.Operations![row.Index])
                ? CopyKeys(row, values)
                : Evaluate(row, values, out keep);
            if (failed is not null)
            {
                rejected.Add(new RejectedRecord(RecordTransform.Stage, row.Index, failed, new RecordBatch(batch.Columns, 1, rows[tuple])));
            }
            else if (!keep)
            {
                filtered++;
            }
            else
            {
                origins.Add((row.Index, tuple));
                operations?.Add(batch.Operations![row.Index]);
                output.BeginTuple(values.Length);
                foreach (var value in values)
                {
                    output.AppendField(value, value is null);
                }
            }

            row.Index++;
        }

        return new TransformOutcome(new RecordBatch(Columns, output.RowCount, output.ToArray(), operations is null ? null : [.. operations]), rejected) { Filtered = filtered, Origins = origins };
    }

    // A delete carries its key columns and nulls: copies go through (with their cast), expressions are not evaluated.
    private string? CopyKeys(BatchRow row, byte[]?[] values)
    {
        for (var i = 0; i < _outputs.Length; i++)
        {
            try
            {
                values[i] = _outputs[i].IsCopy ? _outputs[i].Produce(row) : null;
            }
            catch (ValueCastException exception)
            {
                return $"column {_outputs[i].Column.Name}: {exception.Message}";
            }
        }

        return null;
    }

    private string? Evaluate(BatchRow row, byte[]?[] values, out bool keep)
    {
        keep = true;
        var at = "filter";
        try
        {
            if (_filter is not null && _filter.Evaluate(row) is not { IsNull: false, Boolean: true })
            {
                keep = false;
                return null;
            }

            for (var i = 0; i < _outputs.Length; i++)
            {
                at = $"column {_outputs[i].Column.Name}";
                values[i] = _outputs[i].Produce(row);
            }

            return null;
        }
        catch (Exception exception) when (exception is EvaluationException or ValueCastException)
        {
            return $"{at}: {exception.Message}";
        }
    }

    private static CompiledExpression Compile(string field, string text, Func<string, (int, ExprType)?> resolve)
    {
        try
        {
            return Expression.Parse(text).Bind(resolve);
        }
        catch (ExpressionException exception)
        {
            throw new TransformDefinitionException($"{field}: \"{text}\" {exception.Describe()}");
        }
    }

    private static OutputColumn Output(ColumnMapping mapping, Dictionary<string, int> byName, uint[] oids, Func<string, (int, ExprType)?> resolve)
    {
        uint? castTo = mapping.Cast is { } cast ? PgValueCast.TargetOid(cast) : null;
        if (mapping.Expression is { } text)
        {
            var compiled = Compile($"columns.{mapping.Target}", text, resolve);
            var oid = PgValueCodec.OidOf(compiled.Type);
            return new OutputColumn(new BatchColumn(mapping.Target, castTo ?? oid), IsCopy: false, row =>
            {
                var bytes = PgValueCodec.Encode(compiled.Evaluate(row));
                return bytes is null || castTo is not { } target || target == oid ? bytes : PgValueCast.Convert(oid, bytes, target);
            });
        }

        if (!byName.TryGetValue(mapping.Source, out var index))
        {
            throw new TransformDefinitionException($"columns.{mapping.Target}: the batch has no column \"{mapping.Source}\"");
        }

        var sourceOid = oids[index];
        return new OutputColumn(new BatchColumn(mapping.Target, castTo ?? sourceOid), IsCopy: true, row => row.Raw(index, castTo));
    }

    private sealed record OutputColumn(BatchColumn Column, bool IsCopy, Func<BatchRow, byte[]?> Produce);

    /// <summary>The current record: its fields, then the lookups' values for it.</summary>
    private sealed class BatchRow(byte[] rows, FieldSlice[] fields, uint[] oids, int inputCount, IReadOnlyList<byte[]?[]> lookups) : ExpressionRow
    {
        public int Index { get; set; }

        public override Value Column(int index) =>
            Raw(index) is { } bytes ? PgValueCodec.Decode(oids[index], bytes) : Value.Null;

        public byte[]? Raw(int index, uint? castTo = null)
        {
            byte[]? bytes;
            if (index < inputCount)
            {
                var field = fields[index];
                bytes = field.IsNull ? null : field.Of(rows).ToArray();
            }
            else
            {
                bytes = lookups[index - inputCount][Index];
            }

            return bytes is null || castTo is not { } target ? bytes : PgValueCast.Convert(oids[index], bytes, target);
        }
    }
}

/// <summary>A job's transform does not fit its batches (an expression names an unknown column, types do not match): the run fails with this reason.</summary>
internal sealed class TransformDefinitionException(string message) : Exception(message);
