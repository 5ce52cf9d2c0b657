using NpgsqlTypes;
using Sync.Contracts;

namespace Sync.Connectors.Postgres.Cdc;

/// <summary>
/// The watermark of a cdc job with streams: the end LSN of the last source transaction loaded, then
/// the tables whose copy is loaded, as <c>CursorPosition(["lsn:0/16B3748", "public.a", "public.b@0/16C0A10"])</c>.
/// A table of the job missing from it has not been copied yet (added to the file since, or its copy's
/// run did not complete), so the next run copies it; the list moves with the LSN, only once loaded.
/// A table copied after the slot's first copy (added to the file, or copied again after a TRUNCATE of
/// some of its partitions) carries <c>@</c> and its copy's consistent point L while the LSN is before
/// L: its changes in transactions that committed before L are in that copy, so the stream passes over
/// them (and does not meet that truncate again); the suffix goes once the LSN reaches L. A table name
/// never holds <c>@</c> (Sync quotes only letters, digits, <c>_</c> and <c>$</c>), and a watermark
/// written before the suffix existed is read as tables without one.
/// </summary>
public static class CdcStreamsPosition
{
    private const char At = '@';

    /// <param name="copiedAt">The copy points of tables copied after the slot's; those the LSN has reached are left out.</param>
    public static CursorPosition Of(NpgsqlLogSequenceNumber lsn, IEnumerable<string> tables, IReadOnlyDictionary<string, NpgsqlLogSequenceNumber>? copiedAt = null) =>
        new([
            CdcPosition.Of(lsn).Values[0],
            .. tables
                .Select(t => copiedAt is not null && copiedAt.TryGetValue(t, out var at) && at > lsn ? $"{t}{At}{at}" : t)
                .Order(StringComparer.Ordinal),
        ]);

    /// <summary>
    /// The LSN, the copied tables and the copy points of a streams watermark; null for none, or one
    /// that is not (the slot then starts over).
    /// </summary>
    public static (NpgsqlLogSequenceNumber Lsn, IReadOnlySet<string> Tables, IReadOnlyDictionary<string, NpgsqlLogSequenceNumber> CopiedAt)? TryRead(CursorPosition? position)
    {
        if (position is not { Values.Count: > 0 } || CdcPosition.TryRead(new CursorPosition([position.Values[0]])) is not { } lsn)
        {
            return null;
        }

        var tables = new HashSet<string>(StringComparer.Ordinal);
        var copiedAt = new Dictionary<string, NpgsqlLogSequenceNumber>(StringComparer.Ordinal);
        foreach (var entry in position.Values.Skip(1))
        {
            var at = entry.IndexOf(At, StringComparison.Ordinal);
            if (at < 0)
            {
                tables.Add(entry);
                continue;
            }

            if (!NpgsqlLogSequenceNumber.TryParse(entry.AsSpan(at + 1), out var point))
            {
                return null;
            }

            tables.Add(entry[..at]);
            copiedAt[entry[..at]] = point;
        }

        return (lsn, tables, copiedAt);
    }

    /// <summary><paramref name="copiedAt"/> with <paramref name="tables"/> copied at <paramref name="point"/>.</summary>
    public static IReadOnlyDictionary<string, NpgsqlLogSequenceNumber> With(
        IReadOnlyDictionary<string, NpgsqlLogSequenceNumber> copiedAt, IEnumerable<string> tables, NpgsqlLogSequenceNumber point)
    {
        var result = new Dictionary<string, NpgsqlLogSequenceNumber>(copiedAt, StringComparer.Ordinal);
        foreach (var table in tables)
        {
            result[table] = point;
        }

        return result;
    }
}
