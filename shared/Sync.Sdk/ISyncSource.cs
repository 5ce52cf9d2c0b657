namespace Sync.Sdk;

/// <summary>
/// A source written in C#, for data no built-in source reads. The Extractor asks it for the records
/// after the job's watermark and sends them on in batches, like any other source's rows. Mark the
/// class with <see cref="SyncSourceAttribute"/> and name it in the job file:
/// <c>source: { type: code, name: NAME, cursor: COLUMN, primary_key: [...] }</c>.
/// A new instance serves each run.
/// </summary>
public interface ISyncSource
{
    /// <summary>The columns of the records <see cref="ReadAsync"/> yields; it must hold the job's cursor and primary-key columns.</summary>
    SyncSchema Schema { get; }

    /// <summary>
    /// Yields the records whose cursor is after <paramref name="after"/> (null on the first run or a
    /// full refresh), in cursor order: the watermark Sync stores is the last record's cursor value,
    /// in PostgreSQL text form (<c>42</c> for a bigint, <c>2026-01-02 03:04:05.5+00</c> for a
    /// timestamptz, the text itself for text), and that is the <paramref name="after"/> of the next
    /// run. Create records with <see cref="SyncRecord.Create"/>. A record whose values do not fit the
    /// schema, or whose cursor or key is null, becomes a dead letter of stage <c>extract</c>; an
    /// exception is a source error (the extraction is retried and redelivered, then the run fails), and
    /// the next run starts from the same watermark.
    /// </summary>
    IAsyncEnumerable<SyncRecord> ReadAsync(string? after, CancellationToken cancellationToken);
}
