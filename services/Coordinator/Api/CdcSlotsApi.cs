using Microsoft.AspNetCore.Http.HttpResults;
using Sync.Coordinator.Jobs;

namespace Sync.Coordinator.Api;

/// <summary>
/// DELETE /api/jobs/{name}/cdc: drops now the recorded replication slot and publication of a cdc job
/// whose file was removed, as the next start would. A job still defined keeps its slot (409): reset
/// its watermark to drop and make it again.
/// </summary>
internal static class CdcSlotsApi
{
    public static IEndpointRouteBuilder MapCdcSlotsApi(this IEndpointRouteBuilder app)
    {
        app.MapDelete("/api/jobs/{name}/cdc", RemoveAsync);
        return app;
    }

    private static async Task<Results<Ok<List<CdcSlotOutcome>>, ProblemHttpResult>> RemoveAsync(
        string name, JobCatalog jobs, CdcSlotCleanup cleanup, CancellationToken cancellationToken)
    {
        if (jobs.Find(name) is not null)
        {
            return OperationsApi.Problem(
                StatusCodes.Status409Conflict,
                $"Job \"{name}\" is still defined; its replication slot is in use.",
                $"Remove its file from {jobs.Directory} and restart the Coordinator, or reset its watermark (DELETE /api/jobs/{name}/watermark) to drop and make the slot again.");
        }

        var defined = jobs.All.Select(j => j.Name).ToHashSet(StringComparer.Ordinal);
        var outcomes = await cleanup.RemoveOrphansAsync(defined, name, cancellationToken);
        return outcomes.Count == 0
            ? OperationsApi.Problem(StatusCodes.Status404NotFound, $"No replication slot of job \"{name}\" is recorded.", "Only slots that Sync made for a cdc job (sync_cdc_slots) are dropped; drop any other by hand.")
            : TypedResults.Ok(outcomes.ToList());
    }
}
