using MassTransit;
using Npgsql;
using Sync.Contracts;
using Sync.Coordinator.Data;

namespace Sync.Coordinator.Runs;

internal sealed class SyncRunStateMachineDefinition : SagaDefinition<SyncRunState>
{
    private const int Partitions = 16;

    protected override void ConfigureSaga(
        IReceiveEndpointConfigurator endpointConfigurator,
        ISagaConfigurator<SyncRunState> sagaConfigurator,
        IRegistrationContext context)
    {
        // On the endpoint, not the saga: a saga-level limit outlives the channel, and deliveries
        // stranded by a dropped connection would keep its slots for good (Failures/BrokerOutageTests,
        // which found this in the stages).
        endpointConfigurator.ConcurrentMessageLimit = Partitions;
        endpointConfigurator.PrefetchCount = 64;
        // Lock waits and the one-active-run index race resolve on a retry.
        endpointConfigurator.UseMessageRetry(retry =>
        {
            retry.Intervals(50, 200, 500, 1000, 2000, 5000);
            retry.Handle<NpgsqlException>();
            retry.Handle<Microsoft.EntityFrameworkCore.DbUpdateException>();
            retry.Handle<InvalidOperationException>(exception => exception.InnerException is NpgsqlException);
        });
        // The saga's state change, its inbox row and the messages it sends commit together; a
        // redelivered message finds its inbox row consumed and does nothing again.
        endpointConfigurator.UseSyncOutbox<CoordinatorDbContext>(context);

        // One run's messages in one lane: no two wait on the same row lock.
        var partition = endpointConfigurator.CreatePartitioner(Partitions);
        sagaConfigurator.Message<StartSyncRun>(x => x.UsePartitioner(partition, m => m.Message.RunId));
        sagaConfigurator.Message<ReplayDeadLetters>(x => x.UsePartitioner(partition, m => m.Message.RunId));
        sagaConfigurator.Message<RepairKeys>(x => x.UsePartitioner(partition, m => m.Message.RunId));
        sagaConfigurator.Message<BeginExtraction>(x => x.UsePartitioner(partition, m => m.Message.RunId));
        sagaConfigurator.Message<ExtractionPlanned>(x => x.UsePartitioner(partition, m => m.Message.RunId));
        sagaConfigurator.Message<ExtractionProgressed>(x => x.UsePartitioner(partition, m => m.Message.RunId));
        sagaConfigurator.Message<ExtractionCompleted>(x => x.UsePartitioner(partition, m => m.Message.RunId));
        sagaConfigurator.Message<ExtractionFailed>(x => x.UsePartitioner(partition, m => m.Message.RunId));
        sagaConfigurator.Message<BatchLoaded>(x => x.UsePartitioner(partition, m => m.Message.RunId));
        sagaConfigurator.Message<CancelSyncRun>(x => x.UsePartitioner(partition, m => m.Message.RunId));
        sagaConfigurator.Message<BatchFailed>(x => x.UsePartitioner(partition, m => m.Message.RunId));
        sagaConfigurator.Message<DeletesSwept>(x => x.UsePartitioner(partition, m => m.Message.RunId));
    }
}
