using System.Diagnostics;
using Sync.Contracts;
using Sync.Contracts.Jobs;

namespace Sync.Connectors.Postgres.Verification;

/// <summary>
/// What every verifier does around its comparison: the refusals common to all destinations (a job
/// verification cannot express, a destination of another kind, an incremental job never run), the
/// timing, and the answer — the comparison's report, or Unverifiable with the reason.
/// </summary>
internal static class VerificationRun
{
    /// <summary>Runs <paramref name="compare"/> for a job into <paramref name="kind"/>; <paramref name="elsewhere"/> says why another kind is refused.</summary>
    public static async Task<JobVerified> RunAsync(VerifyJob request, DestinationKind kind, string elsewhere, Func<Task<Comparison>> compare)
    {
        var started = Stopwatch.GetTimestamp();
        try
        {
            Admit(request.Job, request.Watermark, kind, elsewhere);
            var found = await compare();
            return found.ToResult(request, request.Job.Destination.Deletes != DeleteMode.Keep, Elapsed(started));
        }
        catch (VerifyRefusedException refused)
        {
            return new JobVerified(request.VerificationId, request.JobName, VerifyOutcome.Unverifiable, refused.Message, 0, 0, 0, 0, 0, 0, [], request.Watermark, Elapsed(started));
        }
    }

    private static void Admit(JobSpec job, string? watermark, DestinationKind kind, string elsewhere)
    {
        if (VerifyPlan.Refusal(job) is { } reason)
        {
            throw new VerifyRefusedException(reason);
        }

        if (job.Destination.Kind != kind)
        {
            throw new VerifyRefusedException($"destination type {job.Destination.Kind.ToString().ToLowerInvariant()} {elsewhere}");
        }

        if (job.Mode == SyncMode.Incremental && watermark is null)
        {
            throw new VerifyRefusedException("the job has no committed watermark yet; run it first");
        }
    }

    private static long Elapsed(long started) => (long)Stopwatch.GetElapsedTime(started).TotalMilliseconds;
}
