using System.Collections.Concurrent;
using Sync.Batches;
using Sync.Connectors;
using Sync.Connectors.Postgres;
using Sync.Contracts;
using Sync.Contracts.Jobs;

namespace Sync.Transformer;

/// <summary>
/// Applies a job's transform to a batch. Transforms are compiled once per job and batch shape: a
/// mapping without casts is a pure projection (field bytes copied); one with casts converts record
/// by record and sets aside the records that do not convert; one with expressions, a filter,
/// lookups or a C# transform goes through <see cref="ExpressionTransform"/> (and
/// <see cref="CodeTransformStep"/>).
/// </summary>
internal sealed class BatchTransforms(ConnectionCatalog connections, CodeTransforms code, TimeProvider clock)
{
    private readonly ConcurrentDictionary<string, RecordTransform> _transforms = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, ExpressionTransform> _expressionTransforms = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, BatchColumn> _lookupColumns = new(StringComparer.Ordinal);

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

    public async Task<TransformOutcome> ApplyAsync(JobSpec job, RecordBatch batch, CancellationToken cancellationToken)
    {
        if (!CarriedColumns.Lacks(job.Transform, batch))
        {
            return await ApplyCarriedAsync(job, batch, cancellationToken);
        }

        if (CarriedColumns.Undecidable(job.Transform, batch) is { } reason)
        {
            var (deletes, rejected) = CarriedColumns.SetAsideUpserts(batch, reason);
            var rest = await ApplyCarriedAsync(job with { Transform = CarriedColumns.ForDeletes(job.Transform, deletes) }, deletes, cancellationToken);
            return rest with { Rejected = [.. rejected, .. rest.Rejected] };
        }

        return await ApplyCarriedAsync(job with { Transform = CarriedColumns.Narrow(job.Transform, batch) }, batch, cancellationToken);
    }

    private async Task<TransformOutcome> ApplyCarriedAsync(JobSpec job, RecordBatch batch, CancellationToken cancellationToken)
    {
        var spec = job.Transform;
        var lookups = spec.Lookups ?? [];
        if (spec.Filter is null && lookups.Count == 0 && spec.Code is null && spec.Columns.All(m => m.Expression is null))
        {
            return Apply(job, batch);
        }

        var lookupColumns = new List<BatchColumn>(lookups.Count);
        var lookupValues = new List<byte[]?[]>(lookups.Count);
        foreach (var lookup in lookups)
        {
            await using var connection = await connections.Get(lookup.Connection).OpenConnectionAsync(cancellationToken);
            var column = _lookupColumns.TryGetValue(LookupKey(lookup), out var known)
                ? known
                : _lookupColumns.GetOrAdd(LookupKey(lookup), await Permanent(() => PostgresLookup.ColumnAsync(connection, lookup, cancellationToken)));
            lookupColumns.Add(column);
            lookupValues.Add(await Permanent(() => PostgresLookup.ReadAsync(connection, lookup, column, batch, cancellationToken)));
        }

        var key = job.Name + "|" + System.Text.Json.JsonSerializer.Serialize(spec)
            + "|" + string.Join(",", batch.Columns.Concat(lookupColumns).Select(c => $"{c.Name}:{c.TypeOid}"));
        var transform = _expressionTransforms.GetOrAdd(key, _ => new ExpressionTransform(batch.Columns, spec, lookupColumns));
        // now() is one value per batch: the Transformer's clock when the batch is transformed.
        var outcome = transform.Apply(batch, lookupValues, clock.GetUtcNow());
        return spec.Code is { } name ? CodeTransformStep.Apply(code.Create(name), name, batch, outcome) : outcome;
    }

    private static string LookupKey(LookupSpec lookup) => $"{lookup.Connection}|{lookup.Table}|{lookup.Match}|{lookup.Column}|{lookup.Name}";

    // A lookup that does not fit its table fails the batch for good; a database that is down is retried.
    private static async Task<T> Permanent<T>(Func<Task<T>> read)
    {
        try
        {
            return await read();
        }
        catch (SourceSchemaException exception)
        {
            throw new TransformDefinitionException(exception.Message);
        }
    }
}

/// <summary>The transformed batch, and the records set aside with their reasons (stage "transform").</summary>
internal sealed record TransformOutcome(RecordBatch Batch, IReadOnlyList<RejectedRecord> Rejected)
{
    /// <summary>Records the job's filter (or C# transform) dropped.</summary>
    public int Filtered { get; init; }

    /// <summary>For each output record, its index and tuple in the input batch (set by <see cref="ExpressionTransform"/>), so a later step rejects the record as received.</summary>
    public IReadOnlyList<(int Index, Range Tuple)>? Origins { get; init; }
}
