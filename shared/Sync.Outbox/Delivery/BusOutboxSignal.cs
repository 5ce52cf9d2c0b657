using MassTransit.Middleware.Outbox;
using Microsoft.Extensions.Options;

namespace Sync.Outbox.Delivery;

/// <summary>
/// Wakes the delivery service when a bus outbox commits. Unlike MassTransit's BusOutboxNotification,
/// a commit that happens while the service is busy (not waiting) is kept for its next wait instead
/// of being lost until the poll interval (seen in OutboxDeliveryTests under load).
/// </summary>
internal sealed class BusOutboxSignal(IOptions<OutboxOptions> options) : IBusOutboxNotification, IDisposable
{
    private readonly Lock _gate = new();
    private readonly SemaphoreSlim _pending = new(0, 1);

    public async Task WaitForDelivery(CancellationToken cancellationToken) =>
        await _pending.WaitAsync(options.Value.PollInterval, cancellationToken);

    public void Delivered()
    {
        // At most one wake-up is pending; more commits before the wait need no more.
        lock (_gate)
        {
            if (_pending.CurrentCount == 0)
            {
                _pending.Release();
            }
        }
    }

    public void Dispose() => _pending.Dispose();
}
