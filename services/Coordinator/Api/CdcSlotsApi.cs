using Microsoft.AspNetCore.Http.HttpResults;
using Sync.Coordinator.Jobs;

namespace Sync.Coordinator.Api;

/// <summary>
/// DELETE /api/jobs/{name}/cdc: drops now the recorded replication slot and publication of a cdc job
/// whose file was removed, as the next start would. A job still defined, even by an invalid file, keeps
/// its slot (409): reset its watermark to drop and make it again.
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
        // A cdc streams job is a job of the catalog only once resolved (not yet after a restart); its file defines it all the same.
        if (jobs.Find(name) is not null || jobs.FindStreams(name)?.Name == name)
        {
            return OperationsApi.Problem(
                StatusCodes.Status409Conflict,
                $"Job \"{name}\" is still defined; its replication slot is in use.",
                $"Remove its file from {jobs.Directory} (the folder is read again within seconds; POST /api/jobs/reload reads it at once), then try again; or reset its watermark (DELETE /api/jobs/{name}/watermark) to drop and make the slot again.");
        }

        if (jobs.FindInvalid(name) is { } invalid)
        {
            return OperationsApi.Problem(
                StatusCodes.Status409Conflict,
                $"Job \"{name}\" is still defined by {invalid.File}, which is invalid; its replication slot is kept for it.",
                $"Fix the file, or remove it from {jobs.Directory} and try again once the folder is read again (POST /api/jobs/reload).");
        }

        if (jobs.HasUnnamedInvalidFile)
        {
            var unnamed = string.Join(", ", jobs.Invalid.Where(f => f.Name is null).Select(f => f.File));
            return OperationsApi.Problem(
                StatusCodes.Status409Conflict,
                $"The job name of {unnamed} cannot be read; it may be job \"{name}\", whose slot is kept.",
                "Fix or remove that file, then try again once the folder is read again (POST /api/jobs/reload).");
        }

        var outcomes = await cleanup.RemoveOrphansAsync(jobs.ClaimedNames, name, cancellationToken);
        return outcomes.Count == 0
            ? OperationsApi.Problem(StatusCodes.Status404NotFound, $"No replication slot of job \"{name}\" is recorded.", "Only slots that Sync made for a cdc job (sync_cdc_slots) are dropped; drop any other by hand.")
            : TypedResults.Ok(outcomes.ToList());
    }
}
