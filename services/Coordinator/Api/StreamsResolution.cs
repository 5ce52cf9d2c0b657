using MassTransit;
using Microsoft.AspNetCore.Http.HttpResults;
using Sync.Contracts.Jobs;
using Sync.Coordinator.Jobs;
using Sync.Jobs;

namespace Sync.Coordinator.Api;

/// <summary>
/// A streams job resolved against the source catalog for an API call (a run, a verification): the
/// expansion, or why there is none — the Extractor did not answer (503), or the streams do not
/// resolve (422, each error with its field and fix).
/// </summary>
internal sealed record StreamsResolution(StreamExpansionResult? Expansion, ProblemHttpResult? Unanswered, UnprocessableEntity<ValidationView>? Invalid)
{
    /// <param name="then">What the caller does once the Extractor answers, e.g. "start the run again".</param>
    public static async Task<StreamsResolution> ResolveAsync(StreamResolver streams, StreamsJob job, string then, CancellationToken cancellationToken)
    {
        StreamExpansionResult expansion;
        try
        {
            expansion = await streams.ResolveAsync(job, cancellationToken);
        }
        catch (Exception e) when (e is RequestTimeoutException or RequestFaultException)
        {
            return new(null, OperationsApi.Problem(
                StatusCodes.Status503ServiceUnavailable,
                $"The streams of job \"{job.Name}\" could not be resolved: the Extractor, which reads the source catalog, did not answer ({e.Message}).",
                $"Start the Extractor, then {then}."), null);
        }

        return expansion.IsValid
            ? new(expansion, null, null)
            : new(null, null, TypedResults.UnprocessableEntity(new ValidationView(false, expansion.Errors.Select(ErrorView.Of).ToList())));
    }

    /// <summary>
    /// Resolves the streams job that <paramref name="name"/> needs when it is not in the catalog yet,
    /// for a call on a stream (<c>JOB.STREAM</c>) or on a cdc streams job: those are found only once
    /// their streams job has been resolved — since the Coordinator started, or since a reload changed
    /// its file — so a call right after a restart resolves it as a run would rather than answer 404.
    /// Null when there was nothing to resolve or it resolved (the caller finds the job as before);
    /// otherwise the failed resolution, whose 503 or 422 is the answer. A streams job by cursor as a
    /// whole is no job of the catalog and is left to the caller.
    /// </summary>
    public static async Task<StreamsResolution?> ResolveIfMissingAsync(
        JobCatalog jobs, StreamResolver streams, string name, string then, CancellationToken cancellationToken)
    {
        if (jobs.Find(name) is not null || jobs.FindStreams(name) is not { } streamsJob)
        {
            return null;
        }

        // A cdc streams job is resolved as one job of its own name, its streams inside it.
        var cdc = streamsJob.Defaults.Mode == SyncMode.Cdc;
        if (cdc ? jobs.Find(streamsJob.Name) is not null : streamsJob.Name == name)
        {
            return null;
        }

        var resolution = await ResolveAsync(streams, streamsJob, then, cancellationToken);
        return resolution.Expansion is null ? resolution : null;
    }
}
