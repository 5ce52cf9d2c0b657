using Microsoft.Extensions.Logging;
using Sync.ServiceDefaults;

namespace Sync.Coordinator.Runs.Activities;

/// <summary>
/// A finished run's metrics (sync.runs, sync.run.duration, sync.run.rows) and its log line. Recorded
/// in the saga's pass, before the commit: a pass that rolls back and runs again counts twice, so
/// these are for dashboards; sync_metrics holds the exact figures.
/// </summary>
internal static partial class RunTelemetry
{
    public static void Finished(ILogger logger, SyncRunState run, string state)
    {
        var job = SyncTelemetry.JobTag(run.JobName);
        var stateTag = new KeyValuePair<string, object?>("sync.state", state);
        SyncTelemetry.RunsFinished.Add(1, job, stateTag);
        SyncTelemetry.RunDuration.Record(RunMetrics.DurationMs(run) / 1000.0, job, stateTag);
        SyncTelemetry.RunRows.Add(run.Inserted, job, Result("inserted"));
        SyncTelemetry.RunRows.Add(run.Updated, job, Result("updated"));
        SyncTelemetry.RunRows.Add(run.Skipped, job, Result("skipped"));
        SyncTelemetry.RunRows.Add(run.Errors, job, Result("failed"));
        if (state == RunStates.Completed)
        {
            LogCompleted(logger, run.Processed, run.Inserted, run.Updated, run.Skipped, run.Errors, RunMetrics.DurationMs(run));
        }
        else
        {
            LogFailed(logger, run.FailureReason ?? "unknown", RunMetrics.DurationMs(run));
        }
    }

    private static KeyValuePair<string, object?> Result(string result) => new("sync.result", result);

    [LoggerMessage(Level = LogLevel.Information, Message = "Run completed: {Processed} rows ({Inserted} inserted, {Updated} updated, {Skipped} skipped, {Errors} errors) in {DurationMs} ms")]
    private static partial void LogCompleted(ILogger logger, long processed, long inserted, long updated, long skipped, long errors, long durationMs);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Run failed after {DurationMs} ms: {Reason}")]
    private static partial void LogFailed(ILogger logger, string reason, long durationMs);
}
