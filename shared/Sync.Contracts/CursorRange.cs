namespace Sync.Contracts;

/// <summary>
/// A backfill's slice of a source's cursor: rows with <see cref="From"/> ≤ cursor &lt; <see cref="To"/>,
/// the values in PostgreSQL text input form of the cursor column's type (issue 18, item 4).
/// </summary>
public sealed record CursorRange(string From, string To);
