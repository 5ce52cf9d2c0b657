using Sync.Contracts.Jobs;

namespace Sync.Connectors;

/// <summary>Names that follow from a job's mapping.</summary>
public static class JobColumns
{
    /// <summary>The destination column the source cursor is written to.</summary>
    public static string CursorTarget(JobSpec job) => TargetOf(job, job.Source.Cursor);

    public static string TargetOf(JobSpec job, string sourceColumn) =>
        job.Transform.Columns.Count == 0
            ? sourceColumn
            : job.Transform.Columns.FirstOrDefault(m => m.Source == sourceColumn)?.Target
              ?? throw new DestinationSchemaException($"Job {job.Name} does not write source column \"{sourceColumn}\" to the destination.");
}
