namespace Sync.Contracts;

/// <summary>A mismatch between a job and a live schema, with the job field it concerns (e.g. <c>source.table</c>).</summary>
public sealed record JobSchemaProblem(string Field, string Message);
