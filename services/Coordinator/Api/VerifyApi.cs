using MassTransit;
using Microsoft.AspNetCore.Http.HttpResults;
using Sync.Contracts;
using Sync.Contracts.Jobs;
using Sync.Coordinator.Jobs;
using Sync.Coordinator.Verification;
using Sync.Jobs;

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
    private static async Task<Results<Ok<VerificationView>, Ok<StreamsVerificationView>, UnprocessableEntity<ValidationView>, ProblemHttpResult>> VerifyAsync(
        string name, JobCatalog jobs, StreamResolver streams, JobVerifications verifications, CancellationToken cancellationToken, bool repair = false)
    {
        // A streams job as a whole (issue 18): every stream, resolved against the source first as a run
        // does. A cdc streams job is found as a job of its own name once resolved, its streams inside it.
        if (jobs.FindStreams(name) is { } streamsJob && streamsJob.Name == name)
        {
            var resolution = await StreamsResolution.ResolveAsync(streams, streamsJob, "verify again", cancellationToken);
            if (resolution.Unanswered is { } unanswered)
            {
                return unanswered;
            }

            if (resolution.Invalid is { } invalid)
            {
                return invalid;
            }

            var expansion = resolution.Expansion!;

            var views = new List<VerificationView>();
            foreach (var stream in expansion.Jobs.SelectMany(j => j.Streams ?? [j]))
            {
                views.Add(await verifications.VerifyAsync(stream, repair && stream.Mode != SyncMode.Cdc, cancellationToken) is var view && repair && stream.Mode == SyncMode.Cdc && view.ExitCode == 1
                    ? view with { RepairNote = CdcStreamRepairNote }
                    : view);
            }

            return TypedResults.Ok(StreamsVerificationView.Of(name, views));
        }

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

    // A repair run reads keys by the job's name, and a cdc stream (JOB.STREAM) is no job of its own: it
    // is read through its streams job's one slot, which a repair run must not share with the running job.
    private const string CdcStreamRepairNote = "a cdc stream is not repaired by key: its changes come through the streams job's one slot; "
        + "remove the stream from the job file and add it back (reload), which copies its table again";

    private static ProblemHttpResult UnknownJob(string name, JobCatalog jobs)
    {
        var (title, detail) = jobs.NotRunnable(name);
        return OperationsApi.Problem(StatusCodes.Status404NotFound, title, detail);
    }
}

/// <summary>A streams job's verification: each stream's, and the worst outcome (its exit code is the CLI's).</summary>
internal sealed record StreamsVerificationView(string JobName, string Outcome, int ExitCode, IReadOnlyList<VerificationView> Streams)
{
    public static StreamsVerificationView Of(string jobName, IReadOnlyList<VerificationView> streams)
    {
        var exitCode = streams.Count == 0 ? (int)VerifyOutcome.Unverifiable : streams.Max(s => s.ExitCode);
        return new StreamsVerificationView(jobName, ((VerifyOutcome)exitCode).ToString(), exitCode, streams);
    }
}
