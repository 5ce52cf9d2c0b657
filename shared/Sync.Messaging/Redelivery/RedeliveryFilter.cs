using MassTransit;
using Sync.Contracts;
using Sync.Contracts.Jobs;
using Sync.Messaging.Signing;

namespace Sync.Messaging.Redelivery;

/// <summary>
/// Wraps a stage's quick in-process retries. A message whose handling still fails with a transient
/// error is acknowledged and comes back through a delay queue after the next interval: the job's
/// own (<c>retry: redelivery:</c> in its file) when the message carries its job, else the service
/// default. After the last interval, or at once for a permanent error, the stage reports that it
/// gives up (so the run can end) and the exception goes on to MassTransit, which moves the message
/// to the error queue.
/// </summary>
internal sealed class RedeliveryFilter(
    DelayQueues delayQueues,
    IReadOnlyList<TimeSpan> defaultIntervals,
    Func<Exception, bool> isTransient,
    Func<ConsumeContext, Exception, Task> onGivingUp) : IFilter<ConsumeContext>
{
    public async Task Send(ConsumeContext context, IPipe<ConsumeContext> next)
    {
        try
        {
            await next.Send(context);
        }
        // A refused signature is neither retried nor reported to the run: the message may name any run.
        catch (Exception exception) when (exception is not (OperationCanceledException or UnsignedJobException))
        {
            var intervals = IntervalsFor(context, defaultIntervals);
            var count = RedeliveriesSoFar(context);
            if (isTransient(exception) && count < intervals.Count)
            {
                await delayQueues.RedeliverAsync(context.ReceiveContext, intervals[count], count + 1, context.CancellationToken);
                return;
            }

            await onGivingUp(context, exception);
            throw;
        }
    }

    public void Probe(ProbeContext context) => context.CreateFilterScope("sync-redelivery");

    public static int RedeliveriesSoFar(ConsumeContext context) =>
        context.ReceiveContext.TransportHeaders.Get<int>(DelayQueues.CountHeader) ?? 0;

    /// <summary>The job's redelivery waits when the message is one of a job's stage commands, else <paramref name="defaults"/>.</summary>
    public static IReadOnlyList<TimeSpan> IntervalsFor(ConsumeContext context, IReadOnlyList<TimeSpan> defaults) =>
        JobOf(context)?.Retry?.Redelivery ?? defaults;

    // The stage commands carry the whole job; the message is already deserialized by the consumer
    // that just failed, so TryGetMessage returns the cached copy.
    private static JobSpec? JobOf(ConsumeContext context) =>
        context.TryGetMessage<LoadBatch>(out var load) ? load.Message.Job
        : context.TryGetMessage<TransformBatch>(out var transform) ? transform.Message.Job
        : context.TryGetMessage<ExtractBatches>(out var extract) ? extract.Message.Job
        : context.TryGetMessage<RereadRecords>(out var reread) ? reread.Message.Job
        : null;
}
