using MassTransit;
using Sync.Contracts;
using Sync.Coordinator.Data;
using Sync.Coordinator.Jobs;

namespace Sync.Coordinator.DeadLetters;

/// <summary>
/// Keeps a message dead letter for every message a stage gave up on (it is in that stage's
/// _error queue), whatever state its run is in: the saga ignores a second BatchFailed of a run it
/// already failed, this does not.
/// </summary>
internal sealed class FailedMessageConsumer(CoordinatorDbContext dbContext, JobCatalog jobs) : IConsumer<BatchFailed>, IConsumer<ExtractionFailed>
{
    public Task Consume(ConsumeContext<BatchFailed> context)
    {
        var m = context.Message;
        return DeadLetterStore.RecordMessageAsync(dbContext, m.JobName, DeadLetterStreams.Of(jobs, m.JobName, m.Stream), m.RunId, m.BatchSeq, m.Stage, m.Reason, QueueOf(m.Stage), context.CancellationToken);
    }

    public Task Consume(ConsumeContext<ExtractionFailed> context)
    {
        var m = context.Message;
        return DeadLetterStore.RecordMessageAsync(dbContext, m.JobName, DeadLetterStreams.Of(jobs, m.JobName, null), m.RunId, -1, "extract", m.Reason, "extract-batches", context.CancellationToken);
    }

    // The endpoint names the stages' consumers get from the kebab-case formatter.
    private static string QueueOf(string stage) => stage switch
    {
        "transform" => "transform-batch",
        "load" => "load-batch",
        "sweep" => "sweep-deletes",
        _ => stage,
    };
}

internal sealed class FailedMessageConsumerDefinition : ConsumerDefinition<FailedMessageConsumer>
{
    protected override void ConfigureConsumer(
        IReceiveEndpointConfigurator endpointConfigurator,
        IConsumerConfigurator<FailedMessageConsumer> consumerConfigurator,
        IRegistrationContext context)
    {
        consumerConfigurator.UseMessageRetry(retry =>
        {
            retry.Intervals(200, 1000, 5000);
            retry.Handle<Npgsql.NpgsqlException>();
        });
    }
}
