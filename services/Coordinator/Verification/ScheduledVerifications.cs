using Coravel.Invocable;
using MassTransit;
using Sync.Contracts;
using Sync.Coordinator.Data;
using Sync.Coordinator.Scheduling;

namespace Sync.Coordinator.Verification;

/// <summary>
/// Asks for the verification of each job whose <c>verify.schedule</c> is due (issue 15), through
/// the bus outbox, so a due verification is not lost to a crash; <see cref="VerificationConsumer"/>
/// makes it. A paused job is verified too: a pause stops its runs, not the question whether its
/// destination is right. Each occurrence is claimed first (<see cref="ScheduledStarts"/>), as a cron
/// run's is, so Coordinator replicas verify it once (issue 19).
/// </summary>
internal sealed partial class ScheduledVerifications(
    [FromKeyedServices(ScheduledVerifications.TimetableKey)] CronTimetable timetable,
    TimeProvider time,
    IPublishEndpoint publish,
    CoordinatorDbContext dbContext,
    ILogger<ScheduledVerifications> logger) : IInvocable
{
    public const string TimetableKey = "verify";

    public const string Trigger = "schedule";

    /// <summary>How often due verifications are looked for.</summary>
    public static readonly TimeSpan Interval = TimeSpan.FromSeconds(5);

    public async Task Invoke()
    {
        var now = time.GetUtcNow();
        foreach (var (job, occurrence) in timetable.DueOccurrences(now))
        {
            // The claim and the request commit together: a replica that lost the claim asks for nothing,
            // and a request that could not be committed leaves the occurrence unclaimed.
            var verificationId = NewId.NextGuid();
            await using (var transaction = await dbContext.Database.BeginTransactionAsync())
            {
                if (await ScheduledStarts.ClaimVerificationAsync(dbContext, job, occurrence, verificationId, CancellationToken.None))
                {
                    await publish.PublishDurablyAsync(dbContext, new StartVerification(verificationId, job, Trigger, now), CancellationToken.None);
                    await transaction.CommitAsync();
                }
                else
                {
                    LogClaimed(logger, job, occurrence);
                }
            }

            timetable.Fired(job, now);
        }
    }

    [LoggerMessage(Level = LogLevel.Debug, Message = "Scheduled verification of {JobName} at {Occurrence} already asked for by another Coordinator")]
    private static partial void LogClaimed(ILogger logger, string jobName, DateTimeOffset occurrence);
}
