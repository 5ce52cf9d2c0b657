namespace Sync.Contracts.Jobs;

/// <summary>
/// A paged HTTP JSON API as a source (<c>type: http</c>). The base address and the auth header come from
/// the named connection in the Extractor's configuration; the job only says what to ask for and how to read it.
/// <see cref="Records"/> is the dotted path to the records array in each page ("" for a top-level array);
/// <see cref="SinceParam"/>, when set, carries the watermark's cursor value to the server.
/// </summary>
public sealed record HttpSourceSpec(
    string Path,
    string Records,
    IReadOnlyList<SourceField> Fields,
    string? SinceParam = null,
    HttpPagination? Pagination = null);

/// <summary>
/// How the next page is found. <see cref="Kind"/>: <c>page</c> (a page number in <see cref="Param"/>, from
/// <see cref="Start"/>, until a page is empty), <c>cursor</c> (the token at <see cref="Next"/> goes in
/// <see cref="Param"/>), <c>link</c> (the URL at <see cref="Next"/> is the next page). A missing token or link ends.
/// </summary>
public sealed record HttpPagination(string Kind, string? Param = null, string? Next = null, int Start = 1);

/// <summary>One column read from a record: its dotted path in the record and its PostgreSQL type.</summary>
public sealed record SourceField(string Column, string Path, string Type);
