using Sync.Contracts;
using Sync.Contracts.Jobs;

namespace Sync.Connectors;

/// <summary>Reads a job's rows after a position, for incremental and full-refresh jobs; one per <see cref="SourceKind"/>.</summary>
public interface ISource
{
    /// <summary>
    /// Reads every row after <paramref name="after"/> (all rows when null) and hands each batch to
    /// <paramref name="onBatch"/> in order, with the records of it that could not be read.
    /// </summary>
    Task<ExtractionSummary> ExtractAsync(
        JobSpec job,
        CursorPosition? after,
        Func<RecordBatch, IReadOnlyList<RejectedRecord>, CancellationToken, ValueTask> onBatch,
        CancellationToken cancellationToken);
}
