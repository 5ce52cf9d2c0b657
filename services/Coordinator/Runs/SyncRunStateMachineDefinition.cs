using MassTransit;
using Npgsql;
using Sync.Contracts;

namespace Sync.Coordinator.Runs;

internal sealed class SyncRunStateMachineDefinition : SagaDefinition<SyncRunState>
{
    private const int Partitions = 16;

    public SyncRunStateMachineDefinition()
    {
        ConcurrentMessageLimit = Partitions;
    }

    protected override void ConfigureSaga(
        IReceiveEndpointConfigurator endpointConfigurator,
        ISagaConfigurator<SyncRunState> sagaConfigurator,
        IRegistrationContext context)
    {
        endpointConfigurator.PrefetchCount = 64;
        // Lock waits and the one-active-run index race resolve on a retry.
        endpointConfigurator.UseMessageRetry(retry =>
        {
            retry.Intervals(50, 200, 500, 1000, 2000, 5000);
            retry.Handle<NpgsqlException>();
            retry.Handle<Microsoft.EntityFrameworkCore.DbUpdateException>();
            retry.Handle<InvalidOperationException>(exception => exception.InnerException is NpgsqlException);
        });
        // Messages the saga sends leave only after its transaction committed.
        endpointConfigurator.UseInMemoryOutbox(context);

        // One run's messages in one lane: no two wait on the same row lock.
        var partition = endpointConfigurator.CreatePartitioner(Partitions);
        sagaConfigurator.Message<StartSyncRun>(x => x.UsePartitioner(partition, m => m.Message.RunId));
        sagaConfigurator.Message<ReplayDeadLetters>(x => x.UsePartitioner(partition, m => m.Message.RunId));
        sagaConfigurator.Message<ExtractionCompleted>(x => x.UsePartitioner(partition, m => m.Message.RunId));
        sagaConfigurator.Message<ExtractionFailed>(x => x.UsePartitioner(partition, m => m.Message.RunId));
        sagaConfigurator.Message<BatchLoaded>(x => x.UsePartitioner(partition, m => m.Message.RunId));
        sagaConfigurator.Message<CancelSyncRun>(x => x.UsePartitioner(partition, m => m.Message.RunId));
        sagaConfigurator.Message<BatchFailed>(x => x.UsePartitioner(partition, m => m.Message.RunId));
    }
}
