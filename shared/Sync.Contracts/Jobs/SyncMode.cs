namespace Sync.Contracts.Jobs;

public enum SyncMode
{
    Incremental,
    FullRefresh,
}
