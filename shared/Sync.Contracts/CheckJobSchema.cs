using Sync.Contracts.Jobs;

namespace Sync.Contracts;

/// <summary>
/// Asks the Extractor to check a job against the live schemas of its source and destination
/// (tables, columns, cursor and key types, the destination's unique key) before it runs, and to
/// respond with <see cref="JobSchemaChecked"/>: the Coordinator holds no connection (issue 17).
/// </summary>
public sealed record CheckJobSchema(string JobName, JobSpec Job);
