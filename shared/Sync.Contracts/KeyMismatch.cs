namespace Sync.Contracts;

/// <summary>
/// One key that differs: <see cref="Kind"/> is <c>missing</c> (in the source, not the destination),
/// <c>extra</c>, <c>different</c> (<see cref="Columns"/> name the destination columns that differ) or
/// <c>duplicate</c> (the destination holds the key more than once). Values in normalised text form.
/// </summary>
public sealed record KeyMismatch(string Kind, IReadOnlyList<string?> Key, IReadOnlyList<string>? Columns = null);
