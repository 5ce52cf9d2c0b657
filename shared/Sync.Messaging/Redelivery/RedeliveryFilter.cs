using MassTransit;

namespace Sync.Messaging.Redelivery;

/// <summary>
/// Wraps a stage's quick in-process retries. A message whose handling still fails with a transient
/// error is acknowledged and comes back through a delay queue after the next interval. After the
/// last interval, or at once for a permanent error, the stage reports that it gives up (so the run
/// can end) and the exception goes on to MassTransit, which moves the message to the error queue.
/// </summary>
internal sealed class RedeliveryFilter(
    DelayQueues delayQueues,
    IReadOnlyList<TimeSpan> intervals,
    Func<Exception, bool> isTransient,
    Func<ConsumeContext, Exception, Task> onGivingUp) : IFilter<ConsumeContext>
{
    public async Task Send(ConsumeContext context, IPipe<ConsumeContext> next)
    {
        try
        {
            await next.Send(context);
        }
        catch (Exception exception) when (exception is not OperationCanceledException)
        {
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
}
