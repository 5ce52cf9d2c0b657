using System.Linq.Expressions;
using Sync.Contracts.Jobs;

namespace Sync.Messaging.Signing;

/// <summary>
/// The run a message of type <typeparamref name="T"/> belongs to, read from its properties by
/// convention (Sync.Contracts' records): RunId and JobName, BatchSeq for batches, and the stream when
/// its Job is a streams job's stream. Null for a type without RunId and JobName. Compiled once per
/// type; read by <see cref="RunHeadersFilter{T}"/> (the signed headers) and <see cref="RunContextFilter{T}"/>
/// (span tags and the logger scope).
/// </summary>
internal static class MessageRun<T>
    where T : class
{
    public static readonly Func<T, RunHeaders>? Read = CompileReader();

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
            ? Expression.Call(typeof(MessageRun<T>).GetMethod(nameof(StreamOf), System.Reflection.BindingFlags.NonPublic | System.Reflection.BindingFlags.Static)!, Expression.Property(message, job), Expression.Property(message, spec))
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
