using MassTransit;
using Microsoft.Extensions.DependencyInjection;
using Sync.Contracts.Jobs;

namespace Sync.Messaging.Tests;

/// <summary>
/// A batch as large as <c>batch_bytes</c> allows (<see cref="BatchLimits.MaxBytes"/>, 64 MiB of
/// rows, about 85 MiB once base64-encoded, as a replayed batch is) is a message the broker takes (its max_message_size is
/// 128 MiB); the consuming stage must take it too. The RabbitMQ client's own limit is 64 MiB: over
/// it, the client closes its connection, reconnects, is sent the message again, and the stage
/// never consumes anything from that queue again.
/// </summary>
public sealed class MessageSizeTests : IAsyncLifetime
{
    private TestBus _bus = null!;

    public async Task InitializeAsync() => _bus = await TestBus.StartAsync("message-size", redeliveryIntervals: "00:00:01");

    public async Task DisposeAsync() => await _bus.DisposeAsync();

    [Fact]
    public async Task A_message_carrying_the_largest_batch_a_job_may_cut_is_consumed()
    {
        var cargo = new Cargo(Guid.NewGuid(), new byte[BatchLimits.MaxBytes]);
        Random.Shared.NextBytes(cargo.Rows);

        await _bus.Services.GetRequiredService<IPublishEndpoint>().Publish(cargo);

        Assert.Equal(BatchLimits.MaxBytes, await _bus.Log.WaitForCargoAsync(cargo.Id, TimeSpan.FromSeconds(60)));
    }
}
