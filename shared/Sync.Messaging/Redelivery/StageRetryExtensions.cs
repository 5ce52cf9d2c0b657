using Sync.Messaging.Redelivery;

namespace MassTransit;

public static class StageRetryExtensions
{
    /// <summary>
    /// A stage's failure handling in one place: <paramref name="retry"/>'s quick retries on the
    /// consumer, inside delayed redelivery on the endpoint (<see cref="RedeliveryExtensions.UseSyncRedelivery"/>);
    /// when redelivery gives up, <paramref name="onGivingUp"/> runs and the message goes to the error queue.
    /// </summary>
    public static void UseStageRetry<TConsumer>(
        this IReceiveEndpointConfigurator endpoint,
        IConsumerConfigurator<TConsumer> consumer,
        IRegistrationContext context,
        StageRetry retry,
        Func<ConsumeContext, Exception, Task> onGivingUp)
        where TConsumer : class
    {
        endpoint.UseSyncRedelivery(context, retry.Redeliver, onGivingUp);
        consumer.UseMessageRetry(configurator =>
        {
            retry.InProcessIntervals(configurator);
            configurator.Handle<Exception>(retry.RetryInProcess);
        });
    }

    /// <summary>
    /// As <see cref="UseStageRetry{TConsumer}"/>; when redelivery gives up on a <typeparamref name="TMessage"/>,
    /// publishes the failure event that <paramref name="failed"/> makes of it, so the run learns of it.
    /// </summary>
    public static void UseStageRetry<TConsumer, TMessage, TFailed>(
        this IReceiveEndpointConfigurator endpoint,
        IConsumerConfigurator<TConsumer> consumer,
        IRegistrationContext context,
        StageRetry retry,
        Func<TMessage, Exception, TFailed> failed)
        where TConsumer : class
        where TMessage : class
        where TFailed : class =>
        endpoint.UseStageRetry(consumer, context, retry, (consume, exception) =>
            consume.TryGetMessage<TMessage>(out var message)
                ? consume.Publish(failed(message.Message, exception))
                : Task.CompletedTask);
}
