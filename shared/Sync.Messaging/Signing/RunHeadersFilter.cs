using System.Linq.Expressions;
using MassTransit;
using Sync.Contracts.Jobs;

namespace Sync.Messaging.Signing;

/// <summary>
/// Every send and publish of a message that carries RunId and JobName (by convention, as
/// <see cref="RunContextFilter{T}"/> reads them) gets signed <see cref="RunHeaders"/>: a stage that
/// cannot deserialize it can still fail its run (<see cref="UnreadableMessageFilter{TFailed}"/>).
/// </summary>
internal sealed class RunHeadersFilter<T>(JobSigner signer) : IFilter<SendContext<T>>, IFilter<PublishContext<T>>
    where T : class
{
    private static readonly Func<T, RunHeaders>? Read = CompileReader();

    public Task Send(SendContext<T> context, IPipe<SendContext<T>> next)
    {
        Stamp(context);
        return next.Send(context);
    }

    public Task Send(PublishContext<T> context, IPipe<PublishContext<T>> next)
    {
        Stamp(context);
        return next.Send(context);
    }

    public void Probe(ProbeContext context) => context.CreateFilterScope("run-headers");

    private void Stamp(SendContext<T> context)
    {
        if (Read?.Invoke(context.Message) is { } run)
        {
            (run with { Signature = signer.SignRun(run) }).WriteTo(context.Headers);
        }
    }

    private static Func<T, RunHeaders>? CompileReader()
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
        var spec = typeof(T).GetProperty("Job");
        Expression stream = spec?.PropertyType == typeof(JobSpec)
            ? Expression.Call(typeof(RunHeadersFilter<T>).GetMethod(nameof(StreamOf), System.Reflection.BindingFlags.NonPublic | System.Reflection.BindingFlags.Static)!, Expression.Property(message, job), Expression.Property(message, spec))
            : Expression.Constant(null, typeof(string));
        var create = Expression.New(
            typeof(RunHeaders).GetConstructor([typeof(Guid), typeof(string), typeof(int?), typeof(string), typeof(string)])!,
            Expression.Property(message, runId),
            Expression.Coalesce(Expression.Property(message, job), Expression.Constant(string.Empty)),
            seq,
            stream,
            Expression.Constant(null, typeof(string)));
        return Expression.Lambda<Func<T, RunHeaders>>(create, message).Compile();
    }

    // A streams job's batch names its stream as its job (JOB.STREAM) beside the job it runs under.
    private static string? StreamOf(string jobName, JobSpec? job) => job is null || job.Name == jobName ? null : job.Name;
}
