using MassTransit;
using Sync.Contracts;

namespace Sync.Messaging.Ordering;

/// <summary>A batch's place: its run, its extraction, its number in the extraction, and whether it is a change batch.</summary>
public readonly record struct BatchPlace(Guid RunId, Guid ExtractionId, int BatchSeq, RecordBatch Batch)
{
    /// <summary>Change batches (cdc: they carry operations) take their run's lane; cursor batches none.</summary>
    public bool TakesLane => Batch.Operations is not null;
}

/// <summary>
/// The lanes a stage consumes batches in. A run's change batches must be applied in their order, so they
/// share one lane per run: a stage takes them one at a time, lowest number first. Taken four at once, a
/// later one often overtook an earlier one and the Loader held it back (ChangeOrder: up to 500 ms, then
/// to the end of the queue), which made most of the cdc latency tail. Cursor batches touch distinct
/// keys and go in any order: they take no lane, so one held by a slow destination never holds another.
/// </summary>
public static class BatchLanes
{
    /// <summary>
    /// How long a change batch waits in its lane for its predecessor to come first. Batches are handed to
    /// the consumer four at once, so the next one can reach the lane a moment before the one before it;
    /// a predecessor taken by another instance, or before this process started, never comes.
    /// </summary>
    public static readonly TimeSpan Patience = TimeSpan.FromMilliseconds(50);

    /// <summary>How long a lane is kept after its last batch: a continuous run's next batch finds where it left off.</summary>
    public static readonly TimeSpan IdleLife = TimeSpan.FromMinutes(2);

    public static void UseBatchLanes<TConsumer, TMessage>(this IConsumerConfigurator<TConsumer> consumer, Func<TMessage, BatchPlace> place)
        where TConsumer : class
        where TMessage : class
    {
        var filter = new BatchLaneFilter<TMessage>(place);
        consumer.Message<TMessage>(message => message.UseFilter(filter));
    }
}

/// <summary>One change batch at a time per run, the lowest number waiting first; other batches pass.</summary>
internal sealed class BatchLaneFilter<TMessage>(Func<TMessage, BatchPlace> placeOf) : IFilter<ConsumeContext<TMessage>>
    where TMessage : class
{
    private readonly Dictionary<Guid, Lane> _lanes = [];
    private DateTime _pruned = DateTime.UtcNow;

    public async Task Send(ConsumeContext<TMessage> context, IPipe<ConsumeContext<TMessage>> next)
    {
        var place = placeOf(context.Message);
        if (!place.TakesLane)
        {
            await next.Send(context);
            return;
        }

        var lane = Enter(place.RunId);
        try
        {
            await lane.WaitForTurnAsync(place, context.CancellationToken);
            try
            {
                await next.Send(context);
            }
            finally
            {
                lane.Done();
            }
        }
        finally
        {
            Leave(lane);
        }
    }

    public void Probe(ProbeContext context) => context.CreateFilterScope("batchLanes");

    private Lane Enter(Guid run)
    {
        lock (_lanes)
        {
            if (!_lanes.TryGetValue(run, out var lane))
            {
                _lanes[run] = lane = new Lane(run);
            }

            lane.Users++;
            return lane;
        }
    }

    private void Leave(Lane lane)
    {
        lock (_lanes)
        {
            lane.Users--;
            var now = DateTime.UtcNow;
            lane.LastUsed = now;
            if (now - _pruned < BatchLanes.IdleLife)
            {
                return;
            }

            _pruned = now;
            foreach (var idle in _lanes.Values.Where(l => l.Users == 0 && now - l.LastUsed > BatchLanes.IdleLife).ToList())
            {
                _lanes.Remove(idle.Run);
            }
        }
    }

    /// <summary>
    /// A run's lane: one batch in it at a time; of those waiting, the lowest number goes next, once it is
    /// the one after the last let in (of its extraction) or has waited <see cref="BatchLanes.Patience"/>
    /// for the one before it to arrive.
    /// </summary>
    private sealed class Lane(Guid run)
    {
        private readonly Lock _sync = new();
        private readonly List<Waiter> _waiting = [];
        private readonly Dictionary<Guid, int> _last = [];
        private bool _busy;
        private TaskCompletionSource _changed = NewSignal();

        public Guid Run { get; } = run;

        public int Users { get; set; }

        public DateTime LastUsed { get; set; }

        public async Task WaitForTurnAsync(BatchPlace place, CancellationToken cancellationToken)
        {
            var me = new Waiter(place, DateTime.UtcNow);
            lock (_sync)
            {
                _waiting.Add(me);
            }

            try
            {
                while (true)
                {
                    Task changed;
                    TimeSpan? patience = null;
                    lock (_sync)
                    {
                        if (!_busy && ReferenceEquals(_waiting.MinBy(w => w.Place.BatchSeq), me))
                        {
                            var waited = DateTime.UtcNow - me.Arrived;
                            if (place.BatchSeq <= _last.GetValueOrDefault(place.ExtractionId) + 1 || waited >= BatchLanes.Patience)
                            {
                                _busy = true;
                                _waiting.Remove(me);
                                if (place.BatchSeq > _last.GetValueOrDefault(place.ExtractionId))
                                {
                                    _last[place.ExtractionId] = place.BatchSeq;
                                }

                                return;
                            }

                            patience = BatchLanes.Patience - waited;
                        }

                        changed = _changed.Task;
                    }

                    if (patience is { } remaining)
                    {
                        await Task.WhenAny(changed, Task.Delay(remaining, cancellationToken));
                        cancellationToken.ThrowIfCancellationRequested();
                    }
                    else
                    {
                        await changed.WaitAsync(cancellationToken);
                    }
                }
            }
            catch
            {
                lock (_sync)
                {
                    _waiting.Remove(me);
                    Pulse();
                }

                throw;
            }
        }

        public void Done()
        {
            lock (_sync)
            {
                _busy = false;
                Pulse();
            }
        }

        private void Pulse()
        {
            var changed = _changed;
            _changed = NewSignal();
            changed.TrySetResult();
        }

        private static TaskCompletionSource NewSignal() => new(TaskCreationOptions.RunContinuationsAsynchronously);

        private sealed record Waiter(BatchPlace Place, DateTime Arrived);
    }
}
