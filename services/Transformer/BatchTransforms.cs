using System.Collections.Concurrent;
using Sync.Batches;
using Sync.Contracts;
using Sync.Contracts.Jobs;

namespace Sync.Transformer;

/// <summary>
/// Applies a job's transform to a batch. Transforms are compiled once per job and batch shape: a
/// mapping without casts is a pure projection (field bytes copied); one with casts converts record
/// by record and sets aside the records that do not convert.
/// </summary>
internal sealed class BatchTransforms
{
    private readonly ConcurrentDictionary<string, RecordTransform> _transforms = new(StringComparer.Ordinal);

    public TransformOutcome Apply(JobSpec job, RecordBatch batch)
    {
        if (job.Transform.Columns.Count == 0)
        {
            return new TransformOutcome(batch, []);
        }

        var key = job.Name + "|" + string.Join(",", job.Transform.Columns.Select(m => $"{m.Target}={m.Source}:{m.Cast}"))
            + "|" + string.Join(",", batch.Columns.Select(c => $"{c.Name}:{c.TypeOid}"));
        var transform = _transforms.GetOrAdd(key, _ => new RecordTransform(batch.Columns, job.Transform.Columns));
        return transform.Apply(batch);
    }
}

/// <summary>The transformed batch, and the records set aside with their reasons (stage "transform").</summary>
internal sealed record TransformOutcome(RecordBatch Batch, IReadOnlyList<RejectedRecord> Rejected);
