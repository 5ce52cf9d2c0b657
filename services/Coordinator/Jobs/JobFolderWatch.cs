using Microsoft.Extensions.Options;

namespace Sync.Coordinator.Jobs;

/// <summary>
/// Reads the jobs folder again when a job file in it is added, changed or removed, so an edit takes
/// effect at the job's next run without a restart. It compares the folder's listing (name, size,
/// modification time of each *.yml / *.yaml file) every <see cref="JobsOptions.WatchInterval"/>, which
/// works on every file system a container may mount (inotify does not cross all of them), and reads
/// the folder once the listing has stayed the same for one more interval, so a file caught half
/// written or in an editor's save is not taken. A removed cdc job keeps its slot until the next start
/// or DELETE /api/jobs/{name}/cdc: a file that disappears for a moment must not cost a full copy.
/// </summary>
internal sealed partial class JobFolderWatch(JobCatalog jobs, IOptions<JobsOptions> options, ILogger<JobFolderWatch> logger) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var interval = options.Value.WatchInterval;
        if (interval <= TimeSpan.Zero)
        {
            return;
        }

        var seen = Listing(jobs.Directory);
        string? pending = null;
        using var timer = new PeriodicTimer(interval);
        while (await WaitAsync(timer, stoppingToken))
        {
            var now = Listing(jobs.Directory);
            if (now == seen)
            {
                pending = null;
                continue;
            }

            if (now != pending)
            {
                // Changed since the last look: read it once it has settled.
                pending = now;
                continue;
            }

            try
            {
                jobs.Reload();
                seen = now;
            }
            catch (Exception exception) when (!stoppingToken.IsCancellationRequested)
            {
                LogReloadFailed(exception);
            }

            pending = null;
        }
    }

    private static async Task<bool> WaitAsync(PeriodicTimer timer, CancellationToken stoppingToken)
    {
        try
        {
            return await timer.WaitForNextTickAsync(stoppingToken);
        }
        catch (OperationCanceledException)
        {
            return false;
        }
    }

    /// <summary>The job files' names, sizes and modification times, one line each; empty when the folder is gone.</summary>
    internal static string Listing(string directory)
    {
        try
        {
            var files = new DirectoryInfo(directory).EnumerateFiles("*.*", SearchOption.TopDirectoryOnly)
                .Where(f => f.Name.EndsWith(".yml", StringComparison.OrdinalIgnoreCase) || f.Name.EndsWith(".yaml", StringComparison.OrdinalIgnoreCase))
                .OrderBy(f => f.Name, StringComparer.Ordinal)
                .Select(f => $"{f.Name}\t{f.Length}\t{f.LastWriteTimeUtc.Ticks}");
            return string.Join('\n', files);
        }
        catch (IOException)
        {
            return string.Empty;
        }
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Reading the jobs folder again failed; the jobs stay as they were")]
    private partial void LogReloadFailed(Exception exception);
}
