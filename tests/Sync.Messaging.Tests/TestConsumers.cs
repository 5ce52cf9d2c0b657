using System.Collections.Concurrent;
using MassTransit;
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
