using Sync.Contracts;
using Sync.Contracts.Jobs;

namespace Sync.Connectors.Postgres;

public sealed partial class PostgresSource : ISource, IRangeSource, IKeyRangeSource
{
    // Rows of a table or query always fit their columns: a PostgreSQL batch rejects no record.
    Task<ExtractionSummary> ISource.ExtractAsync(
        JobSpec job,
        CursorPosition? after,
        Func<RecordBatch, IReadOnlyList<RejectedRecord>, CancellationToken, ValueTask> onBatch,
        CancellationToken cancellationToken) =>
        ExtractAsync(job, after, (batch, _, ct) => onBatch(batch, [], ct), cancellationToken);

    Task<ExtractionSummary> IRangeSource.ExtractRangeAsync(
        JobSpec job,
        CursorRange range,
        Func<RecordBatch, IReadOnlyList<RejectedRecord>, CancellationToken, ValueTask> onBatch,
        CancellationToken cancellationToken) =>
        ExtractAsync(job, after: null, (batch, _, ct) => onBatch(batch, [], ct), cancellationToken, range);

    Task<ExtractionPlanned?> IKeyRangeSource.PlanRangesAsync(Guid runId, JobSpec job, CancellationToken cancellationToken) =>
        PlanRangesAsync(runId, job, cancellationToken);

    Task<ExtractionSummary> IKeyRangeSource.ExtractKeyRangeAsync(
        JobSpec job,
        KeyRange range,
        Func<RecordBatch, IReadOnlyList<RejectedRecord>, CancellationToken, ValueTask> onBatch,
        CancellationToken cancellationToken) =>
        ExtractAsync(job, after: null, (batch, _, ct) => onBatch(batch, [], ct), cancellationToken, keyRange: range);
}
