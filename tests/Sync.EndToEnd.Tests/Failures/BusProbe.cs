using System.Collections.Concurrent;
using MassTransit;
using Sync.Contracts;
using Sync.EndToEnd.Tests.Infrastructure;
using Sync.Messaging.Signing;

namespace Sync.EndToEnd.Tests.Failures;

/// <summary>
/// A bus of the test's own on a deployment's virtual host: a temporary queue bound to the batch
/// exchanges keeps a copy of every ExtractBatches, TransformBatch, LoadBatch and BatchLoaded the services publish,
/// and <see cref="PublishAgainAsync{T}"/> puts a copy back on the bus with its original message id,
/// as a broker's redelivery would. What it publishes is signed with the deployment's key, as the
/// services sign (a broker's redelivery keeps the signature header); <see cref="PublishForgedAsync{T}"/> does not.
/// </summary>
internal sealed class BusProbe : IAsyncDisposable
{
    private readonly IBusControl _bus;
    private readonly JobSigner _signer;
    private readonly ConcurrentQueue<Seen<ExtractBatches>> _extractBatches = new();
    private readonly ConcurrentQueue<Seen<TransformBatch>> _transformBatches = new();
    private readonly ConcurrentQueue<Seen<LoadBatch>> _loadBatches = new();
    private readonly ConcurrentQueue<Seen<BatchLoaded>> _batchesLoaded = new();

    private BusProbe(SyncDeployment deployment)
    {
        _signer = new JobSigner(deployment.JobSigningKey);
        _bus = Bus.Factory.CreateUsingRabbitMq(rabbit =>
        {
            rabbit.Host(TestInfrastructure.RabbitHost, (ushort)TestInfrastructure.RabbitPort, deployment.Id, host =>
            {
                host.Username(TestInfrastructure.RabbitUser);
                host.Password(TestInfrastructure.RabbitPassword);
                host.PublisherConfirmation = true;
            });
            // Batches as the services write and read them.
            rabbit.UseBatchBodies();
            rabbit.ReceiveEndpoint($"test-probe-{Guid.NewGuid():N}", endpoint =>
            {
                endpoint.Durable = false;
                endpoint.AutoDelete = true;
                endpoint.Handler<ExtractBatches>(context => Keep(_extractBatches, context));
                endpoint.Handler<TransformBatch>(context => Keep(_transformBatches, context));
                endpoint.Handler<LoadBatch>(context => Keep(_loadBatches, context));
                endpoint.Handler<BatchLoaded>(context => Keep(_batchesLoaded, context));
            });
        });
    }

    public static async Task<BusProbe> StartAsync(SyncDeployment deployment)
    {
        var probe = new BusProbe(deployment);
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        await probe._bus.StartAsync(timeout.Token);
        return probe;
    }

    public IReadOnlyList<Seen<ExtractBatches>> ExtractBatches(Guid runId) => [.. _extractBatches.Where(m => m.Message.RunId == runId)];

    public IReadOnlyList<Seen<TransformBatch>> TransformBatches(Guid runId) => [.. _transformBatches.Where(m => m.Message.RunId == runId)];

    public IReadOnlyList<Seen<LoadBatch>> LoadBatches(Guid runId) => [.. _loadBatches.Where(m => m.Message.RunId == runId)];

    public IReadOnlyList<Seen<BatchLoaded>> BatchesLoaded(Guid runId) => [.. _batchesLoaded.Where(m => m.Message.RunId == runId)];

    public Task PublishAgainAsync<T>(Seen<T> seen)
        where T : class =>
        _bus.Publish(seen.Message, context =>
        {
            context.MessageId = seen.MessageId;
            Sign(context);
        });

    /// <summary>Publishes <paramref name="message"/> as a new message, under a new id.</summary>
    public Task PublishAsync<T>(T message)
        where T : class =>
        _bus.Publish(message, Sign);

    /// <summary>Publishes <paramref name="message"/> as a broker client without the key would: with <paramref name="signature"/>, or none.</summary>
    public Task PublishForgedAsync<T>(T message, string? signature)
        where T : class =>
        _bus.Publish(message, context =>
        {
            if (signature is not null)
            {
                context.Headers.Set(JobSigner.Header, signature);
            }
        });

    /// <summary>Waits until <paramref name="condition"/> holds over what the probe saw; fails after a minute.</summary>
    public static async Task WaitUntilAsync(Func<bool> condition, Func<string> failure)
    {
        var deadline = DateTime.UtcNow.AddMinutes(1);
        while (!condition())
        {
            if (DateTime.UtcNow > deadline)
            {
                throw new TimeoutException(failure());
            }

            await Task.Delay(20);
        }
    }

    public async ValueTask DisposeAsync() => await _bus.StopAsync();

    private void Sign<T>(PublishContext<T> context)
        where T : class
    {
        if (_signer.Sign(context.Message) is { } signature)
        {
            context.Headers.Set(JobSigner.Header, signature);
        }
    }

    private static Task Keep<T>(ConcurrentQueue<Seen<T>> queue, ConsumeContext<T> context)
        where T : class
    {
        queue.Enqueue(new Seen<T>(context.Message, context.MessageId));
        return Task.CompletedTask;
    }
}

/// <summary>A message the probe saw, with the id it travelled under.</summary>
internal sealed record Seen<T>(T Message, Guid? MessageId)
    where T : class;
