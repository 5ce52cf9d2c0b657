using Sync.Contracts;
using Sync.Contracts.Jobs;

namespace Sync.Connectors.Postgres.Cdc;

public sealed partial class PostgresChangeSource : IChangeSource
{
    // A decoded change always fits its columns: a change batch rejects no record.
    Task<ExtractionSummary> IChangeSource.ExtractAsync(
        JobSpec job,
        CursorPosition? after,
        long fence,
        Func<RecordBatch, IReadOnlyList<RejectedRecord>, CancellationToken, ValueTask> onBatch,
        CancellationToken cancellationToken) =>
        ExtractAsync(job, after, fence, (batch, _, ct) => onBatch(batch, [], ct), cancellationToken);

    Task<ExtractionSummary> IChangeSource.ExtractStreamsAsync(
        JobSpec job,
        CursorPosition? after,
        long fence,
        Func<JobSpec, RecordBatch, CancellationToken, ValueTask> onBatch,
        CancellationToken cancellationToken) =>
        ExtractStreamsAsync(job, after, fence, (stream, batch, _, ct) => onBatch(stream, batch, ct), cancellationToken);
}
