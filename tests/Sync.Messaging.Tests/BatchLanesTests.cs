using System.Collections.Concurrent;
using MassTransit;
using Microsoft.Extensions.DependencyInjection;
using Sync.Contracts;
using Sync.Messaging.Ordering;

namespace Sync.Messaging.Tests;

/// <summary>
/// BatchLanes on Sync's real bus (RabbitMQ, an endpoint taking four messages at once, as the Transformer's
/// and the Loader's do): a run's change batches are consumed one at a time in the order they were
/// published, while cursor batches still go side by side.
/// </summary>
public sealed class BatchLanesTests : IAsyncLifetime
{
    private const int Batches = 24;
    private TestBus _bus = null!;

    public async Task InitializeAsync() => _bus = await TestBus.StartAsync(
        "lanes", redeliveryIntervals: "00:00:01", consumers: bus => bus.AddConsumer<LaneConsumer, LaneConsumerDefinition>());

    public async Task DisposeAsync() => await _bus.DisposeAsync();

    [Fact]
    public async Task A_runs_change_batches_are_consumed_one_at_a_time_in_their_order()
    {
        var run = Guid.NewGuid();
        await PublishAsync(run, changes: true);

        var consumed = await LaneLog.WaitForAsync(run, Batches);

        Assert.Equal(Enumerable.Range(1, Batches), consumed.Order);
        Assert.Equal(1, consumed.MostAtOnce);
    }

    [Fact]
    public async Task Cursor_batches_of_a_run_are_consumed_side_by_side()
    {
        var run = Guid.NewGuid();
        await PublishAsync(run, changes: false);

        var consumed = await LaneLog.WaitForAsync(run, Batches);

        Assert.Equal(Enumerable.Range(1, Batches), consumed.Order.Order());
        Assert.True(consumed.MostAtOnce > 1, $"cursor batches were consumed one at a time ({consumed.MostAtOnce})");
    }

    [Fact]
    public void A_change_batch_takes_its_runs_lane_and_a_cursor_batch_one_of_its_own()
    {
        var run = Guid.NewGuid();
        RecordBatch Batch(bool changes) => new([], 0, [], changes ? [] : null);

        Assert.Equal(BatchLanes.Key((run, 1, Batch(changes: true))), BatchLanes.Key((run, 2, Batch(changes: true))));
        Assert.NotEqual(BatchLanes.Key((run, 1, Batch(changes: false))), BatchLanes.Key((run, 2, Batch(changes: false))));
        Assert.NotEqual(BatchLanes.Key((run, 1, Batch(changes: true))), BatchLanes.Key((Guid.NewGuid(), 1, Batch(changes: true))));
    }

    private async Task PublishAsync(Guid run, bool changes)
    {
        var publish = _bus.Services.GetRequiredService<IPublishEndpoint>();
        for (var seq = 1; seq <= Batches; seq++)
        {
            await publish.Publish(new LaneBatch(run, seq, new RecordBatch([], 0, [], changes ? [(byte)'u'] : null)));
        }
    }
}

public sealed record LaneBatch(Guid RunId, int BatchSeq, RecordBatch Batch);

/// <summary>Per run: the order batches were consumed in, and the most consumed at once.</summary>
public static class LaneLog
{
    private static readonly ConcurrentDictionary<Guid, Run> Runs = new();

    public static Run Of(Guid run) => Runs.GetOrAdd(run, _ => new Run());

    public static async Task<(IReadOnlyList<int> Order, int MostAtOnce)> WaitForAsync(Guid run, int batches)
    {
        var log = Of(run);
        var deadline = DateTime.UtcNow.AddSeconds(60);
        while (log.Count < batches && DateTime.UtcNow < deadline)
        {
            await Task.Delay(50);
        }

        return log.Snapshot();
    }

    public sealed class Run
    {
        private readonly List<int> _order = [];
        private int _atOnce;
        private int _most;

        public int Count
        {
            get
            {
                lock (_order)
                {
                    return _order.Count;
                }
            }
        }

        public void Begin()
        {
            var now = Interlocked.Increment(ref _atOnce);
            int most;
            while (now > (most = Volatile.Read(ref _most)) && Interlocked.CompareExchange(ref _most, now, most) != most)
            {
            }
        }

        public void End(int seq)
        {
            lock (_order)
            {
                _order.Add(seq);
            }

            Interlocked.Decrement(ref _atOnce);
        }

        public (IReadOnlyList<int> Order, int MostAtOnce) Snapshot()
        {
            lock (_order)
            {
                return ([.. _order], Volatile.Read(ref _most));
            }
        }
    }
}

/// <summary>Takes a while per batch, longer for earlier ones, so that unordered consumption would let later batches finish first.</summary>
public sealed class LaneConsumer : IConsumer<LaneBatch>
{
    public async Task Consume(ConsumeContext<LaneBatch> context)
    {
        var log = LaneLog.Of(context.Message.RunId);
        log.Begin();
        await Task.Delay(TimeSpan.FromMilliseconds(20 + (context.Message.BatchSeq % 4 == 1 ? 60 : 0)));
        log.End(context.Message.BatchSeq);
    }
}

/// <summary>The Transformer's and the Loader's endpoint policy in the part that matters here: four at once, lanes.</summary>
public sealed class LaneConsumerDefinition : ConsumerDefinition<LaneConsumer>
{
    protected override void ConfigureConsumer(
        IReceiveEndpointConfigurator endpointConfigurator, IConsumerConfigurator<LaneConsumer> consumerConfigurator, IRegistrationContext context)
    {
        endpointConfigurator.ConcurrentMessageLimit = 4;
        endpointConfigurator.PrefetchCount = 8;
        endpointConfigurator.UseBatchLanes(consumerConfigurator, (LaneBatch batch) => (batch.RunId, batch.BatchSeq, batch.Batch));
    }
}
