using Sync.Contracts;
using Sync.Contracts.Jobs;

namespace Sync.Connectors.Postgres;

public sealed partial class PostgresSource : ISource
{
    // Rows of a table or query always fit their columns: a PostgreSQL batch rejects no record.
    Task<ExtractionSummary> ISource.ExtractAsync(
        JobSpec job,
        CursorPosition? after,
        Func<RecordBatch, IReadOnlyList<RejectedRecord>, CancellationToken, ValueTask> onBatch,
        CancellationToken cancellationToken) =>
        ExtractAsync(job, after, (batch, _, ct) => onBatch(batch, [], ct), cancellationToken);
}
