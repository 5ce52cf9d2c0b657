namespace Sync.Contracts;

/// <summary>
/// One range of a ranged initial load or full refresh (a job's <c>source.range_size</c>): the rows whose
/// primary key is ≥ <see cref="From"/> and &lt; <see cref="To"/> (null: unbounded on that side), read up
/// to the run's cursor bound <see cref="Upper"/> (null: no bound), values in PostgreSQL text form.
/// <see cref="Index"/> numbers the range within its run, from 0.
/// </summary>
public sealed record KeyRange(int Index, string? From, string? To, string? Upper);
