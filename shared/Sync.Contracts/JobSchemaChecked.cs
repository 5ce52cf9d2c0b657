namespace Sync.Contracts;

/// <summary>What <see cref="CheckJobSchema"/> found; no problems means the job fits its live schemas.</summary>
public sealed record JobSchemaChecked(string JobName, IReadOnlyList<JobSchemaProblem> Problems);
