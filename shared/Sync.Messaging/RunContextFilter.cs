using System.Diagnostics;
using System.Linq.Expressions;
using MassTransit;
using Microsoft.Extensions.Logging;
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
    private static readonly Func<T, RunContext>? Read = CompileReader();

    public async Task Send(ConsumeContext<T> context, IPipe<ConsumeContext<T>> next)
    {
        if (Read is null)
        {
            await next.Send(context);
            return;
        }

        var run = Read(context.Message);
        run.Tag(Activity.Current);
        using (logger.BeginScope(run))
        {
            await next.Send(context);
        }
    }

    public void Probe(ProbeContext context) => context.CreateFilterScope("run-context");

    // Sync's messages are records with these properties by convention (Sync.Contracts); read once per type.
    private static Func<T, RunContext>? CompileReader()
    {
        var runId = typeof(T).GetProperty("RunId");
        var job = typeof(T).GetProperty("JobName");
        if (runId?.PropertyType != typeof(Guid) || job?.PropertyType != typeof(string))
        {
            return null;
        }

        var message = Expression.Parameter(typeof(T), "message");
        var batchSeq = typeof(T).GetProperty("BatchSeq");
        Expression seq = batchSeq?.PropertyType == typeof(int)
            ? Expression.Convert(Expression.Property(message, batchSeq), typeof(int?))
            : Expression.Constant(null, typeof(int?));
        var create = Expression.New(
            typeof(RunContext).GetConstructor([typeof(string), typeof(Guid), typeof(int?)])!,
            Expression.Coalesce(Expression.Property(message, job), Expression.Constant(string.Empty)),
            Expression.Property(message, runId),
            seq);
        return Expression.Lambda<Func<T, RunContext>>(create, message).Compile();
    }
}
