using System.Collections.Concurrent;
using MassTransit;
using Sync.Contracts;
using Sync.Messaging.Redelivery;

namespace Sync.Messaging.Tests;

/// <summary>What the test consumers saw, per message id.</summary>
public sealed class TestLog
{
    private readonly ConcurrentDictionary<Guid, int> _attempts = new();
    private readonly ConcurrentDictionary<Guid, int> _deliveries = new();
    private readonly ConcurrentDictionary<Guid, int> _failures = new();
    private readonly ConcurrentDictionary<Guid, TaskCompletionSource<PingFailed>> _failed = new();
    private readonly ConcurrentDictionary<Guid, TaskCompletionSource<int>> _received = new();

    public int AttemptsOf(Guid id) => _attempts.GetValueOrDefault(id);

    public int DeliveriesOf(Guid id) => _deliveries.GetValueOrDefault(id);

    public int FailuresOf(Guid id) => _failures.GetValueOrDefault(id);

    public void Attempt(Guid id, int retryAttempt)
    {
        _attempts.AddOrUpdate(id, 1, (_, n) => n + 1);
        if (retryAttempt == 0)
        {
            _deliveries.AddOrUpdate(id, 1, (_, n) => n + 1);
        }
    }

    public void Failed(PingFailed failed)
    {
        _failures.AddOrUpdate(failed.Id, 1, (_, n) => n + 1);
        Completion(failed.Id).TrySetResult(failed);
    }

    public Task<PingFailed> WaitForFailureAsync(Guid id, TimeSpan timeout) => Completion(id).Task.WaitAsync(timeout);

    private readonly ConcurrentDictionary<Guid, ConcurrentQueue<ReceivedBatch>> _batches = new();
    private readonly ConcurrentDictionary<Guid, TaskCompletionSource<ReceivedBatch>> _batchDone = new();

    /// <summary>Notes a delivered batch of run <paramref name="runId"/>; returns which delivery of that run it is (1 for the first).</summary>
    public int Batch(Guid runId, ReceivedBatch batch)
    {
        var deliveries = _batches.GetOrAdd(runId, _ => new ConcurrentQueue<ReceivedBatch>());
        deliveries.Enqueue(batch);
        var delivery = deliveries.Count;
        if (batch.Message is not TransformBatch { JobName: BatchConsumer.FailOnce } || delivery > 1)
        {
            BatchDone(runId).TrySetResult(batch with { Delivery = delivery });
        }

        return delivery;
    }

    /// <summary>The batch of run <paramref name="runId"/> that a consumer took without failing.</summary>
    public Task<ReceivedBatch> WaitForBatchAsync(Guid runId, TimeSpan timeout) => BatchDone(runId).Task.WaitAsync(timeout);

    private TaskCompletionSource<ReceivedBatch> BatchDone(Guid id) =>
        _batchDone.GetOrAdd(id, _ => new TaskCompletionSource<ReceivedBatch>(TaskCreationOptions.RunContinuationsAsynchronously));

    public void Received(Cargo cargo) => Receipt(cargo.Id).TrySetResult(cargo.Rows.Length);

    /// <summary>The length of the rows <see cref="CargoConsumer"/> received in the cargo <paramref name="id"/>.</summary>
    public Task<int> WaitForCargoAsync(Guid id, TimeSpan timeout) => Receipt(id).Task.WaitAsync(timeout);

    private TaskCompletionSource<int> Receipt(Guid id) =>
        _received.GetOrAdd(id, _ => new TaskCompletionSource<int>(TaskCreationOptions.RunContinuationsAsynchronously));

    private TaskCompletionSource<PingFailed> Completion(Guid id) =>
        _failed.GetOrAdd(id, _ => new TaskCompletionSource<PingFailed>(TaskCreationOptions.RunContinuationsAsynchronously));
}

/// <summary>Always throws; counts every attempt, and each delivery (an attempt that is not an in-process retry).</summary>
public sealed class FailingConsumer(TestLog log) : IConsumer<Ping>
{
    public Task Consume(ConsumeContext<Ping> context)
    {
        log.Attempt(context.Message.Id, context.GetRetryAttempt());
        throw context.Message.Transient ? new TimeoutException("the destination did not answer") : new InvalidOperationException("the destination refused it");
    }
}

/// <summary>A stage's endpoint policy as the services write it: UseStageRetry, transient errors retried and redelivered.</summary>
public sealed class FailingConsumerDefinition : ConsumerDefinition<FailingConsumer>
{
    public const int InProcessRetries = 2;

    private static readonly StageRetry Retry = new(
        Redeliver: exception => exception is TimeoutException,
        RetryInProcess: exception => exception is TimeoutException,
        InProcessIntervals: retry => retry.Immediate(InProcessRetries));

    protected override void ConfigureConsumer(
        IReceiveEndpointConfigurator endpointConfigurator, IConsumerConfigurator<FailingConsumer> consumerConfigurator, IRegistrationContext context) =>
        endpointConfigurator.UseStageRetry(consumerConfigurator, context, Retry, (Ping ping, Exception exception) => new PingFailed(ping.Id, $"{exception.GetType().Name}: {exception.Message}"));
}

/// <summary>Collects the failure events, as the Coordinator's run saga would receive them.</summary>
public sealed class PingFailedCollector(TestLog log) : IConsumer<PingFailed>
{
    public Task Consume(ConsumeContext<PingFailed> context)
    {
        log.Failed(context.Message);
        return Task.CompletedTask;
    }
}

/// <summary>Notes each cargo's size.</summary>
public sealed class CargoConsumer(TestLog log) : IConsumer<Cargo>
{
    public Task Consume(ConsumeContext<Cargo> context)
    {
        log.Received(context.Message);
        return Task.CompletedTask;
    }
}

/// <summary>A stage batch as a consumer received it: the message, the delivery's content type and body length.</summary>
public sealed record ReceivedBatch(object Message, string? ContentType, int BodyBytes, int Delivery);

/// <summary>
/// Notes every stage batch it is handed, per run; a batch of the job <see cref="FailOnce"/> fails
/// its first delivery with a transient error, so it comes back through delayed redelivery.
/// </summary>
public sealed class BatchConsumer(TestLog log) : IConsumer<TransformBatch>, IConsumer<LoadBatch>
{
    public const string FailOnce = "fail-once";

    public Task Consume(ConsumeContext<TransformBatch> context) => Note(context, context.Message.RunId, context.Message.JobName);

    public Task Consume(ConsumeContext<LoadBatch> context) => Note(context, context.Message.RunId, context.Message.JobName);

    private Task Note<T>(ConsumeContext<T> context, Guid runId, string jobName)
        where T : class
    {
        var delivery = log.Batch(runId, new ReceivedBatch(context.Message, context.ReceiveContext.ContentType?.MediaType, context.ReceiveContext.Body.GetBytes().Length, 0));
        return jobName == FailOnce && delivery == 1 ? throw new TimeoutException("the destination did not answer") : Task.CompletedTask;
    }
}

/// <summary>Batches are redelivered on a transient error, as the stages' are; no in-process retry.</summary>
public sealed class BatchConsumerDefinition : ConsumerDefinition<BatchConsumer>
{
    private static readonly StageRetry Retry = new(
        Redeliver: exception => exception is TimeoutException,
        RetryInProcess: _ => false,
        InProcessIntervals: retry => retry.None());

    protected override void ConfigureConsumer(
        IReceiveEndpointConfigurator endpointConfigurator, IConsumerConfigurator<BatchConsumer> consumerConfigurator, IRegistrationContext context) =>
        endpointConfigurator.UseStageRetry(consumerConfigurator, context, Retry, (TransformBatch batch, Exception exception) => new PingFailed(batch.RunId, exception.Message));
}
