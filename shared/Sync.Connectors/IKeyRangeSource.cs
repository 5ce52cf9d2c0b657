using Sync.Contracts;
using Sync.Contracts.Jobs;

namespace Sync.Connectors;

/// <summary>A source that can split an initial load or full refresh into key ranges any Extractor can read (issue 19, item 1).</summary>
public interface IKeyRangeSource
{
    /// <summary>
    /// Takes the run's cursor bound (as a read in one would, before any snapshot) and cuts the table's
    /// keys into ranges of <c>source.range_size</c>; null when no row is under the bound (nothing to split).
    /// </summary>
    Task<ExtractionPlanned?> PlanRangesAsync(Guid runId, JobSpec job, CancellationToken cancellationToken);

    /// <summary>Reads the rows of one range up to its bound, in a snapshot of its own, and hands each batch to <paramref name="onBatch"/>.</summary>
    Task<ExtractionSummary> ExtractKeyRangeAsync(
        JobSpec job,
        KeyRange range,
        Func<RecordBatch, IReadOnlyList<RejectedRecord>, CancellationToken, ValueTask> onBatch,
        CancellationToken cancellationToken);
}
