using System.Collections.Concurrent;
using MassTransit;
using Microsoft.Extensions.DependencyInjection;

namespace Sync.Outbox.Tests.Infrastructure;

/// <summary>What the test consumers saw: how often RecordOrder ran per order, and every OrderRecorded that reached the broker, in arrival order.</summary>
public sealed class TestLog
{
    public ConcurrentDictionary<Guid, int> Attempts { get; } = new();

    public ConcurrentQueue<OrderRecorded> Received { get; } = new();

    public int AttemptsOf(Guid orderId) => Attempts.GetValueOrDefault(orderId);

    public IReadOnlyList<int> ReceivedSeqs(Guid orderId) => [.. Received.Where(r => r.OrderId == orderId).Select(r => r.Seq)];
}

/// <summary>Writes the order row and publishes its events in one pass; fails after both when told to, so the test sees what a rollback leaves.</summary>
public sealed class RecordOrderConsumer(TestDbContext dbContext, TestLog log) : IConsumer<RecordOrder>
{
    public async Task Consume(ConsumeContext<RecordOrder> context)
    {
        var message = context.Message;
        var attempt = log.Attempts.AddOrUpdate(message.OrderId, 1, (_, n) => n + 1);
        dbContext.Orders.Add(new RecordedOrder { Id = message.OrderId, Attempt = attempt });
        for (var seq = 1; seq <= message.Publishes; seq++)
        {
            // MassTransit's own test switch: the first delivery attempt from the outbox fails, after the commit.
            await context.Publish(new OrderRecorded(message.OrderId, seq), send =>
            {
                if (message.FailDelivery)
                {
                    send.Headers.Set("MT-Fail-Delivery", true);
                }
            }, context.CancellationToken);
        }

        if (attempt <= message.FailTimes)
        {
            throw new TransientTestException($"Attempt {attempt} of order {message.OrderId} fails on purpose.");
        }
    }
}

public sealed class RecordOrderConsumerDefinition : ConsumerDefinition<RecordOrderConsumer>
{
    protected override void ConfigureConsumer(IReceiveEndpointConfigurator endpointConfigurator, IConsumerConfigurator<RecordOrderConsumer> consumerConfigurator, IRegistrationContext context)
    {
        var settings = context.GetRequiredService<TestSettings>();
        endpointConfigurator.UseSyncRedelivery(context, exception => exception is TransientTestException, (_, _) => Task.CompletedTask);
        // Endpoint-level, as in the Coordinator: a retry wraps the outbox, so each attempt is a fresh pass.
        if (settings.Retries > 0)
        {
            endpointConfigurator.UseMessageRetry(retry => retry.Immediate(settings.Retries));
        }

        endpointConfigurator.UseSyncOutbox<TestDbContext>(context);
        endpointConfigurator.ConcurrentMessageLimit = 8;
    }
}

/// <summary>Stands for the downstream service: keeps what arrived, one at a time so arrival order is visible.</summary>
public sealed class OrderRecordedCollector(TestLog log) : IConsumer<OrderRecorded>
{
    public Task Consume(ConsumeContext<OrderRecorded> context)
    {
        log.Received.Enqueue(context.Message);
        return Task.CompletedTask;
    }
}

public sealed class OrderRecordedCollectorDefinition : ConsumerDefinition<OrderRecordedCollector>
{
    public OrderRecordedCollectorDefinition() => ConcurrentMessageLimit = 1;

    protected override void ConfigureConsumer(IReceiveEndpointConfigurator endpointConfigurator, IConsumerConfigurator<OrderRecordedCollector> consumerConfigurator, IRegistrationContext context) =>
        endpointConfigurator.PrefetchCount = 1;
}

/// <summary>Knobs of one test host.</summary>
public sealed record TestSettings(int Retries);
