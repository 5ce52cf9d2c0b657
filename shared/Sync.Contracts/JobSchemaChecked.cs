namespace Sync.Contracts;

/// <summary>
/// What <see cref="CheckJobSchema"/> found; no problems means the job fits its live schemas.
/// <see cref="CursorValues"/>: the values asked about, as the cursor column's type prints them.
/// </summary>
public sealed record JobSchemaChecked(string JobName, IReadOnlyList<JobSchemaProblem> Problems, IReadOnlyList<string>? CursorValues = null);
