using Sync.Contracts;
using Sync.Contracts.Jobs;

namespace Sync.Connectors;

/// <summary>Reads a cdc job's changes after a position (<see cref="SyncMode.Cdc"/>); one per <see cref="SourceKind"/> that has them.</summary>
public interface IChangeSource
{
    /// <param name="fence">The run's fence, which decides whether a first run may make its slot anew; 0 always may.</param>
    Task<ExtractionSummary> ExtractAsync(
        JobSpec job,
        CursorPosition? after,
        long fence,
        Func<RecordBatch, IReadOnlyList<RejectedRecord>, CancellationToken, ValueTask> onBatch,
        CancellationToken cancellationToken);

    /// <summary>A cdc job with <see cref="JobSpec.Streams"/>: one change stream for all its tables; each batch comes with its stream's job.</summary>
    Task<ExtractionSummary> ExtractStreamsAsync(
        JobSpec job,
        CursorPosition? after,
        long fence,
        Func<JobSpec, RecordBatch, CancellationToken, ValueTask> onBatch,
        CancellationToken cancellationToken);
}
