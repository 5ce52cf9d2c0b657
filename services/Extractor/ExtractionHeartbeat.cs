using MassTransit;
using Microsoft.Extensions.Logging;
using Sync.Contracts;

namespace Sync.Extractor;

/// <summary>
/// Publishes <see cref="ExtractionProgressed"/> every <see cref="ExtractBatches.ProgressInterval"/> while
/// one extraction runs, from its start: the Coordinator's run timeout counts it as progress, so a long
/// extraction, or one whose source is slow to yield even its first row, is not failed while it reads.
/// It is a liveness signal, not a measure of rows: it stops when the extraction ends or its process
/// dies, so a run whose Extractor is gone still times out; one whose source never answers is held
/// until the source's own timeouts end the extraction.
/// </summary>
internal sealed partial class ExtractionHeartbeat : IAsyncDisposable
{
    private readonly ConsumeContext<ExtractBatches> _context;
    private readonly Guid _extractionId;
    private readonly ILogger _logger;
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _beating;
    private int _batches;
    private long _rows;

    public ExtractionHeartbeat(ConsumeContext<ExtractBatches> context, Guid extractionId, ILogger logger)
    {
        _context = context;
        _extractionId = extractionId;
        _logger = logger;
        _beating = context.Message.ProgressInterval is { } interval && interval > TimeSpan.Zero
            ? BeatAsync(interval, _stop.Token)
            : Task.CompletedTask;
    }

    /// <summary>Counts a batch the extraction published, for the next report.</summary>
    public void Add(int rows)
    {
        Interlocked.Increment(ref _batches);
        Interlocked.Add(ref _rows, rows);
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        await _beating;
        _stop.Dispose();
    }

    private async Task BeatAsync(TimeSpan interval, CancellationToken stop)
    {
        var message = _context.Message;
        using var timer = new PeriodicTimer(interval);
        try
        {
            while (await timer.WaitForNextTickAsync(stop))
            {
                try
                {
                    await _context.Publish(
                        new ExtractionProgressed(message.RunId, message.JobName, _extractionId, Volatile.Read(ref _batches), Interlocked.Read(ref _rows)),
                        stop);
                }
                catch (Exception exception) when (exception is not OperationCanceledException)
                {
                    // The extraction's own publishes meet the same broker and fail it if it stays away;
                    // a missed report only brings the run nearer its timeout.
                    LogReportFailed(exception);
                }
            }
        }
        catch (OperationCanceledException) when (stop.IsCancellationRequested)
        {
            // The extraction ended.
        }
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Could not report the extraction's progress; the next report follows at the next interval")]
    private partial void LogReportFailed(Exception exception);
}
