using Sync.Connectors;
using Sync.Batches;
using Sync.Contracts;
using Sync.Sdk;

namespace Sync.Transformer;

/// <summary>
/// Runs a C# transform over a batch that the job's mapping produced: each record decoded into a
/// <see cref="SyncRecord"/>, handed to <see cref="ISyncTransform.Transform"/>, and encoded again in
/// the transform's output schema. A rejected record, or one whose transform throws, becomes a dead
/// letter holding the record as the Transformer received it (so a replay maps it again). A change
/// batch's delete is not handed to the transform (the SDK's records are rows, not changes): it
/// keeps the key columns the output schema shares with the input, its place and its operation.
/// </summary>
internal static class CodeTransformStep
{
    /// <param name="source">The batch the mapping read; <paramref name="input"/> must carry <see cref="TransformOutcome.Origins"/> into it.</param>
    public static TransformOutcome Apply(ISyncTransform transform, string name, RecordBatch source, TransformOutcome input)
    {
        var origins = input.Origins ?? throw new InvalidOperationException("A C# transform runs after an ExpressionTransform.");
        var batch = input.Batch;
        var inputSchema = batch.Columns.Select(c => new SyncColumn(c.Name, SdkValueCodec.TypeOf(c.TypeOid))).ToList();
        var schema = new SyncSchema(inputSchema);
        transform.DescribeOutput(schema);
        var columns = schema.Columns
            .Select(c => new BatchColumn(c.Name, batch.Columns.FirstOrDefault(b => b.Name == c.Name) is { } kept && SdkValueCodec.TypeOf(kept.TypeOid) == c.Type ? kept.TypeOid : SdkValueCodec.OidOf(c.Type)))
            .ToList();
        var fromInput = schema.Columns.Select(c => inputSchema.FindIndex(i => i.Name == c.Name)).ToArray();

        var rows = batch.Rows;
        var output = new TupleBuffer(rows.Length + 1024);
        var rejected = new List<RejectedRecord>(input.Rejected);
        var fields = new FieldSlice[batch.Columns.Count];
        var reader = new TupleReader(rows);
        var filtered = input.Filtered;
        var index = 0;
        var operations = batch.Operations is null ? null : new List<byte>(batch.RowCount);
        while (reader.TryRead(fields, out _, out _))
        {
            if (operations is not null && !RowOperations.IsUpsert(batch.Operations![index]))
            {
                operations.Add(batch.Operations[index]);
                output.BeginTuple(columns.Count);
                for (var i = 0; i < columns.Count; i++)
                {
                    var field = fromInput[i] < 0 ? default : fields[fromInput[i]];
                    var copied = fromInput[i] >= 0 && !field.IsNull && columns[i].TypeOid == batch.Columns[fromInput[i]].TypeOid;
                    output.AppendField(copied ? field.Of(rows).ToArray() : null, !copied);
                }

                index++;
                continue;
            }

            var values = new object?[schema.Columns.Count];
            string? error;
            try
            {
                for (var i = 0; i < values.Length; i++)
                {
                    values[i] = fromInput[i] < 0 || fields[fromInput[i]].IsNull ? null : SdkValueCodec.Decode(batch.Columns[fromInput[i]].TypeOid, fields[fromInput[i]].Of(rows));
                }

                var result = transform.Transform(new SyncRecord(schema, values));
                error = result.Kind == TransformOutcomeKind.Reject ? result.Reason ?? "rejected" : null;
                if (result.Kind == TransformOutcomeKind.Drop)
                {
                    filtered++;
                }
                else if (error is null)
                {
                    operations?.Add(batch.Operations![index]);
                    output.BeginTuple(values.Length);
                    for (var i = 0; i < values.Length; i++)
                    {
                        output.AppendField(values[i] is { } v ? SdkValueCodec.Encode(schema.Columns[i].Type, v) : null, values[i] is null);
                    }
                }
            }
            catch (Exception exception) when (exception is not OutOfMemoryException)
            {
                error = $"{exception.GetType().Name}: {exception.Message}";
            }

            if (error is not null)
            {
                var (sourceIndex, sourceTuple) = origins[index];
                rejected.Add(new RejectedRecord(RecordTransform.Stage, sourceIndex, $"transform {name}: {error}", new RecordBatch(source.Columns, 1, source.Rows[sourceTuple])));
            }

            index++;
        }

        return new TransformOutcome(new RecordBatch(columns, output.RowCount, output.ToArray(), operations is null ? null : [.. operations]), rejected) { Filtered = filtered };
    }
}
