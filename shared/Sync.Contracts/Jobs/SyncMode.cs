namespace Sync.Contracts.Jobs;

public enum SyncMode
{
    Incremental,
    FullRefresh,

    /// <summary>Change data capture: a PostgreSQL table's inserts, updates and deletes from a logical replication slot.</summary>
    Cdc,
}
