using MassTransit;
using Sync.Contracts;

namespace Sync.Messaging.Ordering;

/// <summary>
/// The lanes a stage consumes batches in. A run's change batches (cdc: they carry operations) must be
/// applied in their order, so they share one lane and a stage takes them one at a time in the order the
/// queue gives them; taken four at once, a later one often overtook an earlier one, and the Loader held
/// it back (ChangeOrder: up to 500 ms, then to the end of the queue), which made most of the cdc latency
/// tail. Cursor batches touch distinct keys and go in any order: each gets a lane of its own (by run and
/// sequence), so they still load side by side.
/// </summary>
public static class BatchLanes
{
    /// <summary>Lanes per endpoint: more than its concurrent messages, so cursor batches rarely share one.</summary>
    public const int Count = 16;

    public static void UseBatchLanes<TConsumer, TMessage>(
        this IReceiveEndpointConfigurator endpoint,
        IConsumerConfigurator<TConsumer> consumer,
        Func<TMessage, (Guid RunId, int BatchSeq, RecordBatch Batch)> batch)
        where TConsumer : class
        where TMessage : class
    {
        var lanes = endpoint.CreatePartitioner(Count);
        consumer.Message<TMessage>(message => message.UsePartitioner(lanes, context => Key(batch(context.Message))));
    }

    /// <summary>A change batch's lane is its run's; any other batch's is its own.</summary>
    public static string Key((Guid RunId, int BatchSeq, RecordBatch Batch) batch) =>
        batch.Batch.Operations is null ? $"{batch.RunId:N}/{batch.BatchSeq}" : batch.RunId.ToString("N");
}
