using MassTransit;
using Sync.Contracts;
using Sync.Coordinator.Jobs;

namespace Sync.Coordinator.Verification;

/// <summary>
/// The verifications a job file asks for (issue 15): after each completed run of a job with
/// <c>verify.after_run</c>, and when its <c>verify.schedule</c> is due. Each is kept and exported
/// like a <c>syncctl verify</c>; none repairs (a repair is asked for by a person, who then sees it).
/// One at a time on its own endpoint: a verification hashes both tables, and runs must not wait
/// behind it.
/// </summary>
internal sealed partial class VerificationConsumer(JobCatalog jobs, JobVerifications verifications, ILogger<VerificationConsumer> logger)
    : IConsumer<SyncRunCompleted>, IConsumer<StartVerification>
{
    public async Task Consume(ConsumeContext<SyncRunCompleted> context)
    {
        if (jobs.Find(context.Message.JobName) is { Verify.AfterRun: true })
        {
            await VerifyAsync(context.Message.JobName, "after-run", context.CancellationToken);
        }
    }

    public async Task Consume(ConsumeContext<StartVerification> context)
    {
        if (jobs.Find(context.Message.JobName) is null)
        {
            LogUnknownJob(context.Message.JobName);
            return;
        }

        await VerifyAsync(context.Message.JobName, context.Message.Trigger, context.CancellationToken);
    }

    private async Task VerifyAsync(string jobName, string trigger, CancellationToken cancellationToken)
    {
        var result = await verifications.VerifyAsync(jobs.Find(jobName)!, repair: false, cancellationToken);
        LogVerified(jobName, trigger, result.Outcome, result.Missing + result.Extra + result.Different + result.Duplicated, result.Reason);
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Verification of job {JobName} not made: no such job is defined")]
    private partial void LogUnknownJob(string jobName);

    [LoggerMessage(Level = LogLevel.Information, Message = "Job {JobName} verified ({Trigger}): {Outcome}, {Mismatched} keys differ {Reason}")]
    private partial void LogVerified(string jobName, string trigger, string outcome, int mismatched, string? reason);
}

internal sealed class VerificationConsumerDefinition : ConsumerDefinition<VerificationConsumer>
{
    public VerificationConsumerDefinition()
    {
        EndpointName = "verification";
        ConcurrentMessageLimit = 1;
    }

    protected override void ConfigureConsumer(
        IReceiveEndpointConfigurator endpointConfigurator,
        IConsumerConfigurator<VerificationConsumer> consumerConfigurator,
        IRegistrationContext context)
    {
        consumerConfigurator.UseMessageRetry(retry =>
        {
            retry.Intervals(1000, 5000);
            retry.Handle<Npgsql.NpgsqlException>();
        });
    }
}
