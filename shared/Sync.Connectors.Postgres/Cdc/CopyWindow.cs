using System.Globalization;
using Sync.Contracts;

namespace Sync.Connectors.Postgres.Cdc;

/// <summary>
/// One chunk of a chunked first copy: its rows (key order) as read in <see cref="Snapshot"/>, the
/// marker its high watermark carries, and where the copy stands once it is emitted
/// (<see cref="Next"/>: null when it was the last chunk).
/// </summary>
internal sealed record CopyChunk(string Marker, CopySnapshot Snapshot, IReadOnlyList<RowUpserted> Rows, CopyProgress? Next)
{
    /// <summary>Completed when the stream reached the chunk's high watermark and its rows were handed over.</summary>
    public TaskCompletionSource Emitted { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
}

/// <summary>
/// Which transactions a chunk's read saw: <c>pg_current_snapshot()</c> of its REPEATABLE READ
/// transaction, as <c>xmin:xmax:xip,…</c> (64-bit ids).
/// </summary>
internal sealed class CopySnapshot(ulong xmin, ulong xmax, IReadOnlySet<ulong> inProgress)
{
    public static CopySnapshot Parse(string text)
    {
        var parts = text.Split(':');
        var xip = parts[2].Length == 0 ? [] : parts[2].Split(',').Select(x => ulong.Parse(x, CultureInfo.InvariantCulture)).ToHashSet();
        return new CopySnapshot(ulong.Parse(parts[0], CultureInfo.InvariantCulture), ulong.Parse(parts[1], CultureInfo.InvariantCulture), xip);
    }

    /// <summary>
    /// Whether the read saw the committed transaction <paramref name="xid"/> (the 32-bit id pgoutput
    /// sends): its epoch is the one that puts it at or below xmax, as a transaction the stream sends
    /// around a chunk's read is never 2^31 ids away from it.
    /// </summary>
    public bool Sees(uint xid)
    {
        var full = (xmax & ~0xFFFF_FFFFUL) | xid;
        if (full > xmax && full >= 1UL << 32)
        {
            full -= 1UL << 32;
        }

        return full < xmin || (full < xmax && !inProgress.Contains(full));
    }
}

/// <summary>
/// The changes the stream sent since the last chunk's high watermark, per key, with the transaction
/// that made each; at the next chunk's high watermark, <see cref="Emit"/> says which of the chunk's
/// rows go out there (DBLog's "chunk minus the keys changed in the window").
/// <para>
/// A chunk row is the row as the chunk's snapshot saw it, emitted at its high watermark H, which
/// commits after that snapshot was taken. Every transaction the snapshot saw committed before H,
/// so its changes came before H in the stream, and are in the row. A key touched by a transaction the
/// snapshot did not see, sent before H, has a newer state in the stream already: its row is dropped.
/// DBLog draws that line at a low watermark written before the read; the snapshot's transaction ids
/// draw it exactly, because PostgreSQL makes a commit visible a moment after it writes its commit
/// record, so a position in the WAL is not quite a snapshot. The changes are noted from the previous
/// chunk's high watermark (the read of this chunk starts only after the stream has passed that one).
/// </para>
/// <para>
/// A dropped row's stream changes may leave columns out (an update that leaves a TOASTed value
/// unchanged), and where the destination does not have the row yet it would be inserted without
/// them. Those columns did not change since the snapshot (no unseen change carried them), so the
/// chunk row's values for them are the values at H: they go out as an upsert of those columns only.
/// </para>
/// </summary>
internal sealed class CopyWindow
{
    private readonly Dictionary<string, List<(uint Xid, RowChange Change)>> _touched = new(StringComparer.Ordinal);
    private readonly List<uint> _truncates = [];

    public void Note(SourceTransaction transaction)
    {
        foreach (var change in transaction.Changes)
        {
            if (change is RowTruncated)
            {
                _truncates.Add(transaction.Xid);
                continue;
            }

            if (!_touched.TryGetValue(change.Key, out var changes))
            {
                _touched[change.Key] = changes = [];
            }

            changes.Add((transaction.Xid, change));
        }
    }

    /// <summary>The chunk's rows to emit at its high watermark, in key order; forgets the changes noted so far.</summary>
    public IReadOnlyList<RowChange> Emit(CopyChunk chunk)
    {
        try
        {
            // A TRUNCATE the read did not see emptied the destination after the rows the read found.
            if (_truncates.Any(x => !chunk.Snapshot.Sees(x)))
            {
                return [];
            }

            var emitted = new List<RowChange>(chunk.Rows.Count);
            foreach (var row in chunk.Rows)
            {
                if (!_touched.TryGetValue(row.Key, out var changes) || changes.TrueForAll(c => chunk.Snapshot.Sees(c.Xid)))
                {
                    emitted.Add(row);
                }
                else if (Missing(row, changes.Where(c => !chunk.Snapshot.Sees(c.Xid)).Select(c => c.Change)) is { } rest)
                {
                    emitted.Add(rest);
                }
            }

            return emitted;
        }
        finally
        {
            _touched.Clear();
            _truncates.Clear();
        }
    }

    // The chunk row's values for the columns no unseen change carried, with the key; null when there
    // are none, or when an unseen change deleted the row (a later one is then another row's life).
    private static RowUpserted? Missing(RowUpserted row, IEnumerable<RowChange> unseen)
    {
        var carried = new bool[row.Shape.Length];
        foreach (var change in unseen)
        {
            if (change is RowDeleted)
            {
                return null;
            }

            for (var i = 0; i < carried.Length && i < change.Shape.Length; i++)
            {
                carried[i] |= change.Shape[i] is not null;
            }
        }

        if (Array.TrueForAll(carried, c => c))
        {
            return null;
        }

        // Column 0 is the key (a chunked copy's plan starts with its one key column): it always stays.
        var shape = new BatchColumn?[row.Shape.Length];
        var values = new byte[]?[row.Values.Length];
        for (var i = 0; i < shape.Length; i++)
        {
            if (!carried[i] || i == 0)
            {
                shape[i] = row.Shape[i];
                values[i] = row.Values[i];
            }
        }

        return new RowUpserted(values, row.Key, shape);
    }
}
