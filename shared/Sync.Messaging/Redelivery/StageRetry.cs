using MassTransit;

namespace Sync.Messaging.Redelivery;

/// <summary>
/// How a stage's consumer retries a failed message: quickly in process while
/// <see cref="RetryInProcess"/> holds, at <see cref="InProcessIntervals"/>, then by delayed
/// redelivery while <see cref="Redeliver"/> holds.
/// </summary>
public sealed record StageRetry(
    Func<Exception, bool> Redeliver,
    Func<Exception, bool> RetryInProcess,
    Action<IRetryConfigurator> InProcessIntervals);
