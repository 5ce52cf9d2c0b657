using System.Collections.Concurrent;
using Sync.Contracts;
using Sync.Jobs;

namespace Sync.Coordinator.Jobs;

/// <summary>
/// Expands a job with <c>streams:</c> against its live source: the Coordinator holds no connection,
/// so it asks the Extractor for the catalog (<see cref="DiscoverSourceTables"/>), then records the
/// stream jobs in the <see cref="JobCatalog"/>. Done before every run of the job, so a table added to
/// the source joins at the next run; throws RequestTimeoutException or RequestFaultException when the
/// Extractor does not answer.
/// </summary>
internal sealed class StreamResolver(JobCatalog jobs, StageRequests stages)
{
    private readonly ConcurrentDictionary<string, DateTimeOffset> _resolvedAt = new(StringComparer.Ordinal);

    public async Task<StreamExpansionResult> ResolveAsync(StreamsJob job, CancellationToken cancellationToken)
    {
        var discovered = await stages.GetResponseAsync<DiscoverSourceTables, SourceTablesDiscovered>(
            new DiscoverSourceTables(job.Name, job.SourceConnection, job.Schemas), cancellationToken);
        _resolvedAt[job.Name] = DateTimeOffset.UtcNow;
        if (discovered.Problem is { } problem)
        {
            return new StreamExpansionResult([], [new JobFileError(job.File, 0, 0, "source.connection", problem, $"check the connection Connections__{job.SourceConnection} of the Extractor")]);
        }

        var result = StreamExpansion.Expand(job, discovered.Tables);
        if (result.IsValid)
        {
            jobs.Resolved(result.Jobs);
        }

        return result;
    }

    /// <summary>When the Extractor last answered a resolution of <paramref name="job"/> (valid or not); null before the first.</summary>
    public DateTimeOffset? ResolvedAt(string job) => _resolvedAt.TryGetValue(job, out var at) ? at : null;
}
