using Microsoft.Extensions.Options;

namespace Sync.Messaging.Tests;

/// <summary>The gate on a service's bytes of batch rows in flight (pure logic: no broker).</summary>
public sealed class BatchMemoryTests
{
    private const long MiB = 1L << 20;

    [Fact]
    public async Task Batches_wait_until_their_bytes_are_free_and_go_in_arrival_order()
    {
        var memory = Memory(16 * MiB);
        var first = await memory.AcquireAsync(10 * MiB, CancellationToken.None);
        var second = memory.AcquireAsync(10 * MiB, CancellationToken.None).AsTask();
        // Small enough to fit now, but behind a waiting batch: a large batch is not passed over for ever.
        var third = memory.AcquireAsync(1 * MiB, CancellationToken.None).AsTask();
        await Task.Delay(50);
        Assert.False(second.IsCompleted);
        Assert.False(third.IsCompleted);

        first.Dispose();

        using var secondLease = await second.WaitAsync(TimeSpan.FromSeconds(5));
        using var thirdLease = await third.WaitAsync(TimeSpan.FromSeconds(5));
        Assert.Equal(11 * MiB, memory.InFlight);
    }

    [Fact]
    public async Task A_batch_larger_than_the_budget_goes_alone()
    {
        var memory = Memory(16 * MiB);
        var small = await memory.AcquireAsync(1 * MiB, CancellationToken.None);
        var large = memory.AcquireAsync(64 * MiB, CancellationToken.None).AsTask();
        await Task.Delay(50);
        Assert.False(large.IsCompleted);

        small.Dispose();
        using var lease = await large.WaitAsync(TimeSpan.FromSeconds(5));

        Assert.Equal(16 * MiB, memory.InFlight);
        Assert.False(memory.AcquireAsync(1, CancellationToken.None).AsTask().IsCompleted);
    }

    [Fact]
    public async Task A_cancelled_wait_takes_nothing_and_lets_the_next_one_through()
    {
        var memory = Memory(16 * MiB);
        var held = await memory.AcquireAsync(12 * MiB, CancellationToken.None);
        using var cancel = new CancellationTokenSource();
        var cancelled = memory.AcquireAsync(8 * MiB, cancel.Token).AsTask();
        var next = memory.AcquireAsync(4 * MiB, CancellationToken.None).AsTask();

        await cancel.CancelAsync();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => cancelled);
        using var nextLease = await next.WaitAsync(TimeSpan.FromSeconds(5));
        held.Dispose();
        held.Dispose();
        Assert.Equal(4 * MiB, memory.InFlight);
    }

    private static BatchMemory Memory(long bytes) => new(Options.Create(new BatchMemoryOptions { Bytes = bytes }));
}
