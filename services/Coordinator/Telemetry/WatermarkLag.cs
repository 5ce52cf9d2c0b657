using Microsoft.EntityFrameworkCore;
using Sync.Coordinator.Data;
using Sync.ServiceDefaults;

namespace Sync.Coordinator.Telemetry;

/// <summary>
/// The gauge sync.watermark.lag: now − the committed watermark, per job whose cursor is a
/// timestamp (sync_watermarks.last_sync), in seconds. The watermarks are read every
/// <see cref="RefreshInterval"/>, so an observation never waits for the database.
/// </summary>
internal sealed partial class WatermarkLag : BackgroundService
{
    private static readonly TimeSpan RefreshInterval = TimeSpan.FromSeconds(5);
    private readonly IServiceScopeFactory _scopes;
    private readonly ILogger<WatermarkLag> _logger;
    private volatile IReadOnlyList<(string Job, DateTimeOffset LastSync)> _watermarks = [];

    public WatermarkLag(IServiceScopeFactory scopes, ILogger<WatermarkLag> logger)
    {
        _scopes = scopes;
        _logger = logger;
        SyncTelemetry.Meter.CreateObservableGauge("sync.watermark.lag", Observe, "s", "Now minus the committed watermark of jobs with a timestamp cursor");
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(RefreshInterval);
        do
        {
            try
            {
                await using var scope = _scopes.CreateAsyncScope();
                var watermarks = await scope.ServiceProvider.GetRequiredService<CoordinatorDbContext>().Watermarks.AsNoTracking()
                    .Where(w => w.LastSync != null)
                    .Select(w => new { w.Key, w.LastSync })
                    .ToListAsync(stoppingToken);
                _watermarks = [.. watermarks.Select(w => (w.Key, w.LastSync!.Value))];
            }
            catch (Exception exception) when (!stoppingToken.IsCancellationRequested)
            {
                // The gauge keeps its last values; the next tick tries again.
                LogRefreshFailed(exception);
            }
        }
        while (await timer.WaitForNextTickAsync(stoppingToken));
    }

    private IEnumerable<System.Diagnostics.Metrics.Measurement<double>> Observe()
    {
        var now = DateTimeOffset.UtcNow;
        return _watermarks.Select(w => new System.Diagnostics.Metrics.Measurement<double>((now - w.LastSync).TotalSeconds, SyncTelemetry.JobTag(w.Job)));
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Could not read the watermarks for the lag gauge")]
    private partial void LogRefreshFailed(Exception exception);
}
