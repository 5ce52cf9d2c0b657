using NpgsqlTypes;
using Sync.Contracts;

namespace Sync.Connectors.Postgres.Cdc;

/// <summary>
/// The watermark of a cdc job with streams: the end LSN of the last source transaction loaded, then
/// the tables whose first copy is loaded, as <c>CursorPosition(["lsn:0/16B3748", "public.a", "public.b"])</c>.
/// A table of the job missing from it has not been copied yet (added to the file since, or its copy's
/// run did not complete), so the next run copies it; the list moves with the LSN, only once loaded.
/// </summary>
public static class CdcStreamsPosition
{
    public static CursorPosition Of(NpgsqlLogSequenceNumber lsn, IEnumerable<string> tables) =>
        new([CdcPosition.Of(lsn).Values[0], .. tables.Order(StringComparer.Ordinal)]);

    /// <summary>The LSN and copied tables of a streams watermark; null for none, or one that is not (the slot then starts over).</summary>
    public static (NpgsqlLogSequenceNumber Lsn, IReadOnlySet<string> Tables)? TryRead(CursorPosition? position) =>
        position is { Values.Count: > 0 } && CdcPosition.TryRead(new CursorPosition([position.Values[0]])) is { } read
            ? (read, position.Values.Skip(1).ToHashSet(StringComparer.Ordinal))
            : null;
}
