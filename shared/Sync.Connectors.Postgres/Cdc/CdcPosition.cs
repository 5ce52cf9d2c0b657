using NpgsqlTypes;
using Sync.Contracts;

namespace Sync.Connectors.Postgres.Cdc;

/// <summary>
/// A cdc job's watermark: the end LSN of the last source transaction loaded, as
/// <c>CursorPosition(["lsn:0/16B3748"])</c>. Streaming from it skips every transaction that committed
/// before it (PostgreSQL skips commits before the start point), so nothing loaded is read again.
/// </summary>
public static class CdcPosition
{
    private const string Prefix = "lsn:";

    public static CursorPosition Of(NpgsqlLogSequenceNumber lsn) => new([Prefix + lsn]);

    /// <summary>The LSN of a cdc watermark; null for none, or for a watermark that is not one (the slot then starts over).</summary>
    public static NpgsqlLogSequenceNumber? TryRead(CursorPosition? position) =>
        position is { Values: [var value] } && value.StartsWith(Prefix, StringComparison.Ordinal)
            && NpgsqlLogSequenceNumber.TryParse(value.AsSpan(Prefix.Length), out var lsn)
            ? lsn
            : null;
}
