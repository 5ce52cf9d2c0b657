using MassTransit;
using MassTransit.Middleware.Outbox;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Sync.Outbox.Delivery;

/// <summary>
/// The relay: sends what committed to the outbox and is not out yet. Bus outbox units of work
/// (outbox_state) oldest first, and consumer outboxes whose process died after the commit or whose
/// message went to the error queue (consumed, undelivered inbox rows older than
/// <see cref="OutboxOptions.StrandedDeliveryDelay"/>). Rows are taken with FOR UPDATE SKIP LOCKED,
/// so replicas share the work without a registry. Wakes when a bus outbox commits, else polls.
/// </summary>
internal sealed partial class OutboxDeliveryService<TDbContext>(
    IServiceScopeFactory scopes,
    IBusControl bus,
    IBusOutboxNotification notification,
    IOptions<OutboxOptions> options,
    OutboxMetrics metrics,
    ILogger<OutboxDeliveryService<TDbContext>> logger) : BackgroundService
    where TDbContext : DbContext
{
    // Units of work of one kind per round before the other kind gets its turn.
    private const int UnitsPerRound = 20;

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                await bus.WaitForHealthStatus(BusHealthStatus.Healthy, stoppingToken);
                var worked = await DeliverRoundAsync(stoppingToken);
                if (!worked)
                {
                    await notification.WaitForDelivery(stoppingToken);
                }
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                return;
            }
            catch (DbUpdateConcurrencyException exception)
            {
                metrics.Conflict("delivery");
                LogConflict(exception);
            }
            catch (Exception exception)
            {
                LogRoundFailed(exception);
                await Task.Delay(options.Value.PollInterval, stoppingToken);
            }
        }
    }

    /// <summary>One round over both kinds of pending work; true when anything moved.</summary>
    internal async Task<bool> DeliverRoundAsync(CancellationToken cancellationToken)
    {
        var worked = false;
        // The oldest unit failing to send stops its loop: it would be taken again at once.
        for (var unit = 0; unit < UnitsPerRound && await DeliverOneBusOutboxAsync(cancellationToken); unit++)
        {
            worked = true;
        }

        for (var unit = 0; unit < UnitsPerRound && await DeliverOneStrandedAsync(cancellationToken); unit++)
        {
            worked = true;
        }

        return worked;
    }

    /// <summary>Delivers (part of) the oldest bus outbox in one transaction; true when it moved.</summary>
    internal Task<bool> DeliverOneBusOutboxAsync(CancellationToken cancellationToken) =>
        InScopeAsync("bus", (delivery, token) => delivery.BusOutboxAsync(token), cancellationToken);

    /// <summary>Delivers (part of) the oldest stranded consumer outbox in one transaction; true when it moved.</summary>
    internal Task<bool> DeliverOneStrandedAsync(CancellationToken cancellationToken) =>
        InScopeAsync("consumer", (delivery, token) => delivery.StrandedInboxAsync(token), cancellationToken);

    private async Task<bool> InScopeAsync(string kind, Func<PendingDelivery, CancellationToken, Task<DeliveryResult?>> deliver, CancellationToken cancellationToken)
    {
        await using var scope = scopes.CreateAsyncScope();
        var delivery = new PendingDelivery(
            scope.ServiceProvider.GetRequiredService<TDbContext>(), scope.ServiceProvider.GetRequiredService<OutboxSender>(), options.Value);
        if (await deliver(delivery, cancellationToken) is not { Progressed: true } result)
        {
            return false;
        }

        metrics.Delivered(kind, result.Sent);
        return true;
    }

    [LoggerMessage(Level = LogLevel.Debug, Message = "Outbox delivery met a concurrent update (another replica); it goes on")]
    private partial void LogConflict(Exception exception);

    [LoggerMessage(Level = LogLevel.Error, Message = "Outbox delivery round failed; trying again after the poll interval")]
    private partial void LogRoundFailed(Exception exception);
}
