namespace Sync.Contracts;

/// <summary>
/// A position in a source's (cursor, primary key…) order: the values in PostgreSQL text input
/// form, cursor first. Rows strictly after it are new to the destination.
/// </summary>
public sealed record CursorPosition(IReadOnlyList<string> Values);
