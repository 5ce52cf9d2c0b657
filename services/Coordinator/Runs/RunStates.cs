namespace Sync.Coordinator.Runs;

/// <summary>The saga's state names as stored in sync_runs.current_state.</summary>
public static class RunStates
{
    public const string Extracting = nameof(Extracting);
    public const string Loading = nameof(Loading);
    public const string Sweeping = nameof(Sweeping);
    public const string Completed = nameof(Completed);
    public const string Failed = nameof(Failed);
    public const string Rejected = nameof(Rejected);

    public static readonly IReadOnlyList<string> Active = [Extracting, Loading, Sweeping];
}
