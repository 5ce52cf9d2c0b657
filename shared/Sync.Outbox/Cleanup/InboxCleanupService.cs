using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Sync.Outbox.Cleanup;

/// <summary>
/// Deletes inbox rows nobody needs any more: delivered ones older than the duplicate-detection
/// window, and (which MassTransit's sweep misses) never-delivered ones, whose message faulted to
/// the error queue, older than <see cref="OutboxOptions.UndeliveredInboxWindow"/> by received.
/// Runs every <see cref="OutboxOptions.CleanupInterval"/>, again at once while it finds rows.
/// </summary>
internal sealed partial class InboxCleanupService<TDbContext>(
    IServiceScopeFactory scopes,
    IOptions<OutboxOptions> options,
    OutboxMetrics metrics,
    ILogger<InboxCleanupService<TDbContext>> logger) : BackgroundService
    where TDbContext : DbContext
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var removed = 0;
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                if (removed == 0)
                {
                    await Task.Delay(options.Value.CleanupInterval, stoppingToken);
                }

                removed = await SweepAsync(DateTime.UtcNow, stoppingToken);
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                return;
            }
            catch (Exception exception)
            {
                removed = 0;
                LogSweepFailed(exception);
            }
        }
    }

    /// <summary>One batch of each kind, as of <paramref name="now"/>; the number of inbox rows removed.</summary>
    internal async Task<int> SweepAsync(DateTime now, CancellationToken cancellationToken)
    {
        var settings = options.Value;
        await using var scope = scopes.CreateAsyncScope();
        var dbContext = scope.ServiceProvider.GetRequiredService<TDbContext>();
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(settings.QueryTimeout);

        var deliveredBefore = now - settings.DuplicateDetectionWindow;
        var delivered = await dbContext.Set<InboxState>()
            .Where(i => i.Delivered != null && i.Delivered < deliveredBefore)
            .OrderBy(i => i.Delivered)
            .Take(settings.CleanupBatchSize)
            .ExecuteDeleteAsync(timeout.Token);

        var receivedBefore = now - settings.UndeliveredInboxWindow;
        var undelivered = await dbContext.Set<InboxState>()
            .Where(i => i.Delivered == null && i.Received < receivedBefore)
            .OrderBy(i => i.Received)
            .Take(settings.CleanupBatchSize)
            .ExecuteDeleteAsync(timeout.Token);
        if (undelivered > 0)
        {
            // A consumed row that never got out leaves its outbox rows behind; they go with it.
            await dbContext.Set<OutboxMessage>()
                .Where(m => m.InboxMessageId != null
                    && !dbContext.Set<InboxState>().Any(i => i.MessageId == m.InboxMessageId && i.ConsumerId == m.InboxConsumerId))
                .ExecuteDeleteAsync(timeout.Token);
        }

        if (delivered + undelivered > 0)
        {
            metrics.Removed("delivered", delivered);
            metrics.Removed("undelivered", undelivered);
            LogRemoved(delivered, undelivered);
        }

        return delivered + undelivered;
    }

    [LoggerMessage(Level = LogLevel.Debug, Message = "Inbox cleanup removed {Delivered} delivered and {Undelivered} never-delivered rows")]
    private partial void LogRemoved(int delivered, int undelivered);

    [LoggerMessage(Level = LogLevel.Error, Message = "Inbox cleanup failed; trying again after the cleanup interval")]
    private partial void LogSweepFailed(Exception exception);
}
