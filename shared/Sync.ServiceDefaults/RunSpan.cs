using System.Diagnostics;

namespace Sync.ServiceDefaults;

/// <summary>
/// The root span of one run: it starts a new trace whatever is current (an API request, a cron
/// tick), links to the caller's span when that one is recorded, and the run's first message is
/// sent inside it, so every span of the run — in all four services — carries this trace id.
/// Dispose restores the caller's activity.
/// </summary>
public sealed class RunSpan : IDisposable
{
    private readonly Activity? _caller;

    private RunSpan(Activity? caller, Activity? activity)
    {
        _caller = caller;
        Activity = activity;
    }

    public Activity? Activity { get; }

    public static RunSpan Start(string job, Guid runId, string trigger)
    {
        var caller = System.Diagnostics.Activity.Current;
        ActivityLink[]? links = caller is { Recorded: true } ? [new ActivityLink(caller.Context)] : null;
        // StartActivity takes Activity.Current as the parent when none is given: clear it for a new trace.
        System.Diagnostics.Activity.Current = null;
        var activity = SyncTelemetry.Source.StartActivity(
            $"sync run {job}",
            ActivityKind.Producer,
            default(ActivityContext),
            [new(RunContext.JobTag, job), new(RunContext.RunIdTag, runId.ToString()), new("sync.trigger", trigger)],
            links);
        if (activity is null)
        {
            System.Diagnostics.Activity.Current = caller;
        }

        return new RunSpan(caller, activity);
    }

    public void Dispose()
    {
        Activity?.Dispose();
        System.Diagnostics.Activity.Current = _caller;
    }
}
