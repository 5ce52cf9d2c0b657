using System.Collections.Concurrent;
using Sync.Batches;
using Sync.Contracts;
using Sync.Contracts.Jobs;

namespace Sync.Transformer;

/// <summary>Applies a job's transform to a batch. Projections are compiled once per job and batch shape.</summary>
internal sealed class BatchTransforms
{
    private readonly ConcurrentDictionary<string, ColumnProjection> _projections = new(StringComparer.Ordinal);

    public RecordBatch Apply(JobSpec job, RecordBatch batch)
    {
        if (job.Transform.Columns.Count == 0)
        {
            return batch;
        }

        var key = job.Name + "|" + string.Join(",", job.Transform.Columns.Select(m => $"{m.Target}={m.Source}"))
            + "|" + string.Join(",", batch.Columns.Select(c => $"{c.Name}:{c.TypeOid}"));
        var projection = _projections.GetOrAdd(key, _ => new ColumnProjection(
            batch.Columns, [.. job.Transform.Columns.Select(m => (m.Target, m.Source))]));
        return projection.Apply(batch);
    }
}
