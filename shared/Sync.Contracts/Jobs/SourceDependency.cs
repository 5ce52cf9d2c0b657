namespace Sync.Contracts.Jobs;

/// <summary>
/// A table a cdc query source reads (<c>depends_on:</c>), and how a changed row of it names the facts
/// (rows of the query, by its primary key) to derive again: by its own columns <see cref="FactKey"/>,
/// in the order of the job's primary key, or by <see cref="FactKeysQuery"/>, a SELECT of fact keys whose
/// <c>@column</c> parameters hold the changed rows' values of those columns (as arrays).
/// </summary>
public sealed record SourceDependency(string Table, IReadOnlyList<string>? FactKey = null, string? FactKeysQuery = null);
