using System.Globalization;
using NpgsqlTypes;
using Sync.Contracts;

namespace Sync.Connectors.Postgres.Cdc;

/// <summary>
/// The watermark of a cdc job whose first copy goes in chunks (<c>source.range_size</c>) and is not
/// finished: the end LSN of the last source transaction loaded, then the last key of the last chunk
/// loaded, as <c>CursorPosition(["lsn:0/16B3748", "copied:40000"])</c> (<c>"copied:"</c>: no chunk
/// yet). The next run streams from the LSN and reads the chunks after that key, so a run that dies
/// copies again only what it had not loaded. Once the last chunk is loaded the watermark is a plain
/// <see cref="CdcPosition"/> and the job only streams.
/// </summary>
public static class CdcCopyPosition
{
    private const string Prefix = "copied:";

    /// <summary>The position: <paramref name="progress"/> null means the copy is finished.</summary>
    public static CursorPosition Of(NpgsqlLogSequenceNumber lsn, CopyProgress? progress) =>
        progress is { } copying
            ? new([CdcPosition.Of(lsn).Values[0], Prefix + (copying.LastKey is { } key ? key.ToString(CultureInfo.InvariantCulture) : string.Empty)])
            : CdcPosition.Of(lsn);

    /// <summary>
    /// The LSN and the copy's progress (null when the copy is finished: a plain LSN watermark); null
    /// for no watermark, or one that is neither (the slot then starts over).
    /// </summary>
    public static (NpgsqlLogSequenceNumber Lsn, CopyProgress? Progress)? TryRead(CursorPosition? position)
    {
        if (CdcPosition.TryRead(position) is { } plain)
        {
            return (plain, null);
        }

        if (position is not { Values: [var first, var second] } || CdcPosition.TryRead(new CursorPosition([first])) is not { } lsn
            || !second.StartsWith(Prefix, StringComparison.Ordinal))
        {
            return null;
        }

        var key = second.AsSpan(Prefix.Length);
        if (key.IsEmpty)
        {
            return (lsn, new CopyProgress(null));
        }

        return long.TryParse(key, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var last) ? (lsn, new CopyProgress(last)) : null;
    }
}

/// <summary>How far a chunked first copy got: the last key of the last chunk loaded (null: none yet).</summary>
public readonly record struct CopyProgress(long? LastKey);
