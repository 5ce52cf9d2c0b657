using MassTransit;

namespace Sync.Coordinator.Jobs;

/// <summary>
/// Resolves every streams job once at start-up, retrying until the Extractor answers, so that the run
/// saga finds the stream jobs of runs that were under way when the Coordinator stopped.
/// </summary>
internal sealed partial class StreamResolution(JobCatalog jobs, StreamResolver resolver, ILogger<StreamResolution> logger) : BackgroundService
{
    /// <summary>The wait between tries while the Extractor does not answer.</summary>
    public static readonly TimeSpan RetryInterval = TimeSpan.FromSeconds(5);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var pending = jobs.AllStreams.ToList();
        while (pending.Count > 0 && !stoppingToken.IsCancellationRequested)
        {
            foreach (var job in pending.ToList())
            {
                try
                {
                    var result = await resolver.ResolveAsync(job, stoppingToken);
                    foreach (var error in result.Errors)
                    {
                        LogStreamsInvalid(logger, job.Name, error.ToString());
                    }

                    pending.Remove(job);
                }
                catch (Exception e) when (e is RequestTimeoutException or RequestFaultException)
                {
                    LogExtractorNotAnswering(logger, job.Name, e.Message);
                }
            }

            if (pending.Count > 0)
            {
                await Task.Delay(RetryInterval, stoppingToken);
            }
        }
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Streams of job {JobName} do not resolve against the source; its runs are refused until fixed: {Error}")]
    private static partial void LogStreamsInvalid(ILogger logger, string jobName, string error);

    [LoggerMessage(Level = LogLevel.Information, Message = "Streams of job {JobName} not resolved yet, the Extractor did not answer ({Reason}); trying again")]
    private static partial void LogExtractorNotAnswering(ILogger logger, string jobName, string reason);
}
