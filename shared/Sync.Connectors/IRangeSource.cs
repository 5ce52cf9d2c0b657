using Sync.Contracts;
using Sync.Contracts.Jobs;

namespace Sync.Connectors;

/// <summary>A source that can read one slice of its cursor again, for a backfill (issue 18, item 4).</summary>
public interface IRangeSource
{
    /// <summary>Reads the rows with range.From ≤ cursor &lt; range.To, in cursor order, and hands each batch to <paramref name="onBatch"/>.</summary>
    Task<ExtractionSummary> ExtractRangeAsync(
        JobSpec job,
        CursorRange range,
        Func<RecordBatch, IReadOnlyList<RejectedRecord>, CancellationToken, ValueTask> onBatch,
        CancellationToken cancellationToken);
}
