using MassTransit;
using Microsoft.AspNetCore.Http.HttpResults;
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
}
