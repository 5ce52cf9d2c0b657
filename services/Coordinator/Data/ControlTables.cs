namespace Sync.Coordinator.Data;

/// <summary>Names of the Coordinator's bookkeeping tables in the control database.</summary>
internal static class ControlTables
{
    public const string Runs = "sync_runs";
    public const string RunBatches = "sync_run_batches";
    public const string RunRanges = "sync_run_ranges";
    public const string Watermarks = "sync_watermarks";
    public const string Metrics = "sync_metrics";
    public const string DeadLetters = "dead_letters";
    public const string SchemaMigrations = "sync_schema_migrations";
    public const string JobPauses = "sync_job_pauses";
    public const string CdcSlots = "sync_cdc_slots";
    public const string Verifications = "sync_verifications";
    public const string ScheduledStarts = "sync_scheduled_starts";
}
