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
/// destination is right.
/// </summary>
internal sealed class ScheduledVerifications(
    [FromKeyedServices(ScheduledVerifications.TimetableKey)] CronTimetable timetable,
    TimeProvider time,
    IPublishEndpoint publish,
    CoordinatorDbContext dbContext) : IInvocable
{
    public const string TimetableKey = "verify";

    public const string Trigger = "schedule";

    /// <summary>How often due verifications are looked for.</summary>
    public static readonly TimeSpan Interval = TimeSpan.FromSeconds(5);

    public async Task Invoke()
    {
        var now = time.GetUtcNow();
        foreach (var job in timetable.Due(now))
        {
            await publish.PublishDurablyAsync(dbContext, new StartVerification(NewId.NextGuid(), job, Trigger, now), CancellationToken.None);
            timetable.Fired(job, now);
        }
    }
}
