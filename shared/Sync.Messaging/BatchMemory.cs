using System.ComponentModel.DataAnnotations;
using Microsoft.Extensions.Options;

namespace Sync.Messaging;

/// <summary>
/// How many bytes of batch rows a service holds in flight at once (issue 16: memory bounded by bytes
/// in every stage, not by batch counts). Bound from the <c>BatchMemory</c> section
/// (<c>BatchMemory__Bytes</c>).
/// </summary>
public sealed class BatchMemoryOptions
{
    public const string SectionName = "BatchMemory";

    /// <summary>
    /// Bytes of rows in flight: the Extractor's batches sent and not yet confirmed by the broker, the
    /// Transformer's and the Loader's batches being worked on. A batch larger than this is taken
    /// alone. Each byte of rows in flight costs a stage several (the message body, the rows read
    /// from it, the transformed rows, the next message), so a service's memory grows with this, not with
    /// row counts or batch counts. Default 16 MiB, from 1 MiB to 1 GiB.
    /// </summary>
    [Range(1L << 20, 1L << 30)]
    public long Bytes { get; set; } = 16L << 20;
}

/// <summary>
/// A gate on the bytes of batch rows in flight in one service (<see cref="BatchMemoryOptions.Bytes"/>):
/// a batch waits until its bytes are free, first come first served, so a large batch is not passed
/// over for ever by small ones. A batch larger than the whole budget waits until nothing else is in
/// flight, then goes alone.
/// </summary>
public sealed class BatchMemory(IOptions<BatchMemoryOptions> options)
{
    private readonly Lock _gate = new();
    private readonly LinkedList<Waiter> _waiting = new();
    private long _inFlight;

    public long Capacity { get; } = options.Value.Bytes;

    /// <summary>Bytes taken now; for tests and gauges.</summary>
    public long InFlight
    {
        get
        {
            lock (_gate)
            {
                return _inFlight;
            }
        }
    }

    /// <summary>Waits until <paramref name="bytes"/> (at most the whole budget) are free and takes them until the lease is disposed.</summary>
    public async ValueTask<Lease> AcquireAsync(long bytes, CancellationToken cancellationToken)
    {
        var take = Math.Clamp(bytes, 1, Capacity);
        LinkedListNode<Waiter> node;
        lock (_gate)
        {
            if (_waiting.Count == 0 && _inFlight + take <= Capacity)
            {
                _inFlight += take;
                return new Lease(this, take);
            }

            node = _waiting.AddLast(new Waiter(take, new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously)));
        }

        try
        {
            await node.Value.Granted.Task.WaitAsync(cancellationToken);
            return new Lease(this, take);
        }
        catch (OperationCanceledException)
        {
            lock (_gate)
            {
                if (node.List is not null)
                {
                    _waiting.Remove(node);
                    GrantWaiting();
                    throw;
                }
            }

            // Granted as it was cancelled: give the bytes back.
            Release(take);
            throw;
        }
    }

    private void Release(long bytes)
    {
        lock (_gate)
        {
            _inFlight -= bytes;
            GrantWaiting();
        }
    }

    // Under the lock: the waiters at the head whose bytes now fit, in order.
    private void GrantWaiting()
    {
        while (_waiting.First is { } first && _inFlight + first.Value.Bytes <= Capacity)
        {
            _waiting.RemoveFirst();
            _inFlight += first.Value.Bytes;
            first.Value.Granted.TrySetResult();
        }
    }

    private sealed record Waiter(long Bytes, TaskCompletionSource Granted);

    /// <summary>Bytes taken from the budget; disposing gives them back, once.</summary>
    public sealed class Lease(BatchMemory memory, long bytes) : IDisposable
    {
        private int _released;

        public long Bytes => bytes;

        public void Dispose()
        {
            if (Interlocked.Exchange(ref _released, 1) == 0)
            {
                memory.Release(bytes);
            }
        }
    }
}
