using Sync.Contracts.Jobs;

namespace Sync.Contracts;

/// <summary>
/// Asks the Extractor to check a job against the live schemas of its source and destination
/// (tables, columns, cursor and key types, the destination's unique key) before it runs, and to
/// respond with <see cref="JobSchemaChecked"/>: the Coordinator holds no connection (issue 17).
/// With <see cref="CursorValues"/> it only reads those values as the cursor column's type (a watermark
/// to set, a backfill's from and to, in ascending order) and answers them in PostgreSQL's text form.
/// </summary>
public sealed record CheckJobSchema(string JobName, JobSpec Job, IReadOnlyList<string>? CursorValues = null);
