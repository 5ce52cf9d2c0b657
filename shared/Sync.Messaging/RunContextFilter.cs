using System.Diagnostics;
using MassTransit;
using Microsoft.Extensions.Logging;
using Sync.Messaging.Signing;
using Sync.ServiceDefaults;

namespace Sync.Messaging;

/// <summary>
/// Every consumed message that carries RunId and JobName (and BatchSeq, for batches) tags the
/// current span with them and opens a logger scope with them, so the spans and every log line of
/// the consumer, the saga and what they call are found by run id in all four services.
/// </summary>
internal sealed class RunContextFilter<T>(ILogger<RunContext> logger) : IFilter<ConsumeContext<T>>
    where T : class
{
    private static readonly Func<T, RunHeaders>? Read = MessageRun<T>.Read;

    public async Task Send(ConsumeContext<T> context, IPipe<ConsumeContext<T>> next)
    {
        if (Read is null)
        {
            await next.Send(context);
            return;
        }

        var message = Read(context.Message);
        var run = new RunContext(message.JobName, message.RunId, message.BatchSeq);
        run.Tag(Activity.Current);
        using (logger.BeginScope(run))
        {
            await next.Send(context);
        }
    }

    public void Probe(ProbeContext context) => context.CreateFilterScope("run-context");
}
