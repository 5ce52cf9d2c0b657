using System.Text.Json.Serialization;

namespace Sync.Contracts;

/// <summary>
/// A position in a source's (cursor, primary key…) order: the values in PostgreSQL text input
/// form, cursor first. Rows strictly after it are new to the destination. A files source's
/// position also lists the files it has read (<see cref="Files"/>); other sources' have none.
/// </summary>
public sealed record CursorPosition(
    IReadOnlyList<string> Values,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] FilesRead? Files = null);
