using MassTransit;
using Microsoft.Extensions.DependencyInjection;
using Sync.Messaging.Redelivery;

namespace Sync.Messaging.Tests;

/// <summary>
/// UseStageRetry on Sync's real bus (RabbitMQ, a virtual host of its own, the delay queues): a
/// consumer that keeps failing is retried in process, redelivered after each configured interval,
/// then given up on once — the failure event published, the message in the error queue.
/// </summary>
public sealed class StageRetryTests : IAsyncLifetime
{
    private TestBus _bus = null!;

    public async Task InitializeAsync() => _bus = await TestBus.StartAsync("stage-retry", redeliveryIntervals: "00:00:01,00:00:01");

    public async Task DisposeAsync() => await _bus.DisposeAsync();

    [Fact]
    public async Task A_transient_failure_is_retried_in_process_and_redelivered_per_interval_then_faulted_once()
    {
        var ping = new Ping(Guid.NewGuid(), Transient: true);

        await _bus.Services.GetRequiredService<IPublishEndpoint>().Publish(ping);

        var failed = await _bus.Log.WaitForFailureAsync(ping.Id, TimeSpan.FromSeconds(60));
        Assert.Contains(nameof(TimeoutException), failed.Reason, StringComparison.Ordinal);
        // One delivery and two redeliveries, each tried once and retried twice in process.
        Assert.Equal(3 * (1 + FailingConsumerDefinition.InProcessRetries), _bus.Log.AttemptsOf(ping.Id));
        Assert.Equal(3, _bus.Log.DeliveriesOf(ping.Id));
        Assert.Equal(1u, await _bus.WaitForErrorQueueDepthAsync("failing_error", 1, TimeSpan.FromSeconds(20)));
        await Task.Delay(TimeSpan.FromSeconds(2));
        Assert.Equal(1, _bus.Log.FailuresOf(ping.Id));
    }

    [Fact]
    public async Task A_permanent_failure_is_tried_once_and_faulted_without_redelivery()
    {
        var ping = new Ping(Guid.NewGuid(), Transient: false);

        await _bus.Services.GetRequiredService<IPublishEndpoint>().Publish(ping);

        var failed = await _bus.Log.WaitForFailureAsync(ping.Id, TimeSpan.FromSeconds(30));
        Assert.Contains(nameof(InvalidOperationException), failed.Reason, StringComparison.Ordinal);
        await Task.Delay(TimeSpan.FromSeconds(2.5));
        Assert.Equal(1, _bus.Log.AttemptsOf(ping.Id));
        Assert.Equal(1, _bus.Log.FailuresOf(ping.Id));
    }

    [Fact]
    public async Task An_error_queue_not_declared_yet_is_waited_for_as_empty() =>
        Assert.Equal(0u, await _bus.WaitForErrorQueueDepthAsync("not_declared_yet_error", 1, TimeSpan.FromMilliseconds(500)));
}
