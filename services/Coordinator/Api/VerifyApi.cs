using Microsoft.AspNetCore.Http.HttpResults;
using Sync.Coordinator.Jobs;
using Sync.Coordinator.Verification;

namespace Sync.Coordinator.Api;

/// <summary>Verify a job's destination against its source (issue 15), optionally starting a repair run; read the latest result.</summary>
internal static class VerifyApi
{
    public static IEndpointRouteBuilder MapVerifyApi(this IEndpointRouteBuilder app)
    {
        app.MapPost("/api/jobs/{name}/verify", VerifyAsync);
        app.MapGet("/api/jobs/{name}/verify", LatestAsync);
        return app;
    }

    /// <summary>Compares now and answers when done; with ?repair=true a job found different gets a repair run (repairRunId), to follow and verify again.</summary>
    private static async Task<Results<Ok<VerificationView>, ProblemHttpResult>> VerifyAsync(
        string name, JobCatalog jobs, JobVerifications verifications, CancellationToken cancellationToken, bool repair = false)
    {
        if (jobs.Find(name) is not { } job)
        {
            return UnknownJob(name, jobs);
        }

        return TypedResults.Ok(await verifications.VerifyAsync(job, repair, cancellationToken));
    }

    private static async Task<Results<Ok<VerificationView>, ProblemHttpResult>> LatestAsync(
        string name, JobCatalog jobs, JobVerifications verifications, CancellationToken cancellationToken)
    {
        if (jobs.Find(name) is null)
        {
            return UnknownJob(name, jobs);
        }

        return await verifications.LatestAsync(name, cancellationToken) is { } latest
            ? TypedResults.Ok(latest)
            : OperationsApi.Problem(StatusCodes.Status404NotFound, $"Job \"{name}\" has not been verified yet.", "Verify it with POST /api/jobs/{name}/verify (syncctl verify <job>).");
    }

    private static ProblemHttpResult UnknownJob(string name, JobCatalog jobs)
    {
        var (title, detail) = jobs.NotRunnable(name);
        return OperationsApi.Problem(StatusCodes.Status404NotFound, title, detail);
    }
}
