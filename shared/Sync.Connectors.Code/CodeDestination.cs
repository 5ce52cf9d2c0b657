using Sync.Batches;
using Sync.Contracts;
using Sync.Contracts.Jobs;
using Sync.Sdk;

namespace Sync.Connectors.Code;

/// <summary>
/// Hands a batch to a C# sink (<c>type: code</c>, an <see cref="ISyncSink"/>) as <see cref="SyncRecord"/>s
/// and reports the records it refused, and those that cannot be read as C# values, as rejected rows.
/// Idempotence is the sink's: it gets the run and batch sequence number to key its writes by.
/// </summary>
public sealed class CodeDestination(CodeSinks sinks) : IDestination
{
    public async Task<LoadResult> LoadAsync(BatchToLoad load, CancellationToken cancellationToken)
    {
        var (job, runId, extractionId, batchSeq, batch, _, _) = load;
        var name = job.Destination.Table;
        var sink = sinks.Create(name);
        var schema = new SyncSchema(batch.Columns.Select(c => new SyncColumn(c.Name, SdkValueCodec.TypeOf(c.TypeOid))));
        var records = new List<SyncRecord>(batch.RowCount);
        var rowOf = new List<int>(batch.RowCount);
        var rejected = new List<RowRejection>();
        var fields = new FieldSlice[batch.Columns.Count];
        var reader = new TupleReader(batch.Rows);
        for (var index = 0; reader.TryRead(fields, out var count, out _); index++)
        {
            var values = new object?[batch.Columns.Count];
            try
            {
                for (var i = 0; i < count; i++)
                {
                    values[i] = fields[i].IsNull ? null : SdkValueCodec.Decode(batch.Columns[i].TypeOid, fields[i].Of(batch.Rows));
                }
            }
            catch (ValueCastException exception)
            {
                rejected.Add(new RowRejection(index, $"C# sink {name}: {exception.Message}"));
                continue;
            }

            records.Add(new SyncRecord(schema, values));
            rowOf.Add(index);
        }

        var failures = records.Count == 0 ? [] : await sink.WriteAsync(new SinkBatch(job.Name, runId, extractionId, batchSeq, schema, records), cancellationToken);
        foreach (var failure in failures.DistinctBy(f => f.RecordIndex))
        {
            if (failure.RecordIndex < 0 || failure.RecordIndex >= records.Count)
            {
                throw new InvalidOperationException($"C# sink {name} reported a failure for record {failure.RecordIndex} of a batch of {records.Count}.");
            }

            rejected.Add(new RowRejection(rowOf[failure.RecordIndex], $"C# sink {name}: {failure.Reason}"));
        }

        var loaded = batch.RowCount - rejected.Count;
        return new LoadResult(loaded, loaded, 0, 0, Replayed: false, [.. rejected.OrderBy(r => r.RowIndex)]);
    }
}
