using System.Buffers.Binary;
using System.Text;
using Npgsql.Replication.PgOutput;
using Npgsql.Replication.PgOutput.Messages;
using Sync.Batches;
using Sync.Contracts;
using Sync.Contracts.Jobs;

namespace Sync.Connectors.Postgres.Cdc;

/// <summary>
/// Turns pgoutput rows (binary mode: each value in its type's send format, as binary COPY carries
/// it) into values in the plan's column order, so a change travels like a row of the initial copy.
/// A value is copied as it is, but for the few columns <see cref="CdcTypes"/> says travel otherwise.
/// Each row is read with the columns of its own relation as the stream last described it: every
/// partition of a partitioned table is a relation of its own (its column order may differ), and a
/// relation described again after an ALTER TABLE applies to the changes after it, not before.
/// The decoder gathers the open transaction's changes; <see cref="CompleteAsync"/> hands them over at its commit.
/// </summary>
internal sealed class ChangeDecoder(SourcePlan plan, SourceSpec source, IReadOnlyList<ValueCarry> carries, TextConversion? text, bool readsEveryColumn = false)
{
    // Columns added to the source while the run streams, in the order the stream first described them.
    private readonly List<BatchColumn> _added = [];

    private readonly int[] _keyIndexes = [.. source.PrimaryKey.Select(k => plan.Columns.ToList().FindIndex(c => c.Name == k))];
    private readonly Dictionary<uint, Relation> _relations = [];

    // The open transaction's changes. An upsert with values still to turn into text waits for the
    // commit (one conversion per transaction) with its values and shape; any other is built at once.
    private readonly List<(RowChange? Built, byte[]?[]? Values, BatchColumn?[]? Shape)> _changes = [];

    // Rows read with values still in binary form that travel as text, with those columns.
    private readonly Dictionary<byte[]?[], List<int>> _toText = new(ReferenceEqualityComparer.Instance);

    /// <summary>
    /// Reads a relation's columns: which plan column each feeds, in which type it comes, and how it
    /// travels. A column added to the source after the run's plan was made is carried from here on, after
    /// the plan's columns, when the job reads every source column (<paramref name="readsEveryColumn"/>):
    /// a destination that evolves adds it, so a change streamed in the same run as the ALTER loses no value.
    /// </summary>
    public void Map(RelationMessage relation)
    {
        var map = new int[relation.Columns.Count];
        var types = new BatchColumn?[relation.Columns.Count];
        var carried = new ValueCarry[relation.Columns.Count];
        for (var i = 0; i < map.Length; i++)
        {
            var column = relation.Columns[i];
            map[i] = plan.Columns.ToList().FindIndex(c => c.Name == column.ColumnName);
            if (map[i] < 0)
            {
                // Left out: a column the job does not read (under columns:), or one of a type that travels
                // only as text, which needs the source's conversion the plan was made with.
                if (readsEveryColumn && PgTypes.IsSupported(column.DataTypeId))
                {
                    var added = _added.FindIndex(c => c.Name == column.ColumnName);
                    if (added < 0)
                    {
                        _added.Add(new BatchColumn(column.ColumnName, column.DataTypeId));
                        added = _added.Count - 1;
                    }

                    map[i] = plan.Columns.Count + added;
                    types[i] = new BatchColumn(column.ColumnName, column.DataTypeId);
                }

                continue;
            }

            if (column.DataTypeId == plan.Columns[map[i]].TypeOid)
            {
                carried[i] = carries[map[i]];
                types[i] = plan.BatchColumns[map[i]];
                continue;
            }

            // A type changed since the change was written: the value comes in the type it had then, as
            // it is, and the Loader casts it to the destination's (a value that does not cast is set aside there).
            if (!PgTypes.IsSupported(column.DataTypeId))
            {
                throw new SourceSchemaException(
                    $"Column \"{column.ColumnName}\" of {source.Table} had type OID {column.DataTypeId} when a change still unread was written, which mode: cdc cannot carry; leave it out under columns:, or reset the job's watermark to copy the table again.");
            }

            types[i] = new BatchColumn(plan.Columns[map[i]].Name, column.DataTypeId);
        }

        // Rows of this relation are as wide as the plan and the columns added so far.
        var shape = new BatchColumn?[plan.Columns.Count + _added.Count];
        for (var i = 0; i < map.Length; i++)
        {
            if (map[i] >= 0)
            {
                shape[map[i]] = types[i];
            }
        }

        _relations[relation.RelationId] = new Relation(map, shape, carried);
    }

    /// <summary>
    /// The row's values in plan order, and its shape: a plan column the relation lacks, or whose
    /// unchanged TOASTed value pgoutput left out (REPLICA IDENTITY other than FULL), is not carried,
    /// unless <paramref name="before"/> has it. A value that travels as text is still in binary form
    /// here (<see cref="CompleteAsync"/> turns it into text), as is one taken from <paramref name="before"/>.
    /// </summary>
    public async ValueTask<(byte[]?[] Values, BatchColumn?[] Shape)> ReadAsync(RelationMessage relation, ReplicationTuple row, byte[]?[]? before, CancellationToken cancellationToken)
    {
        var (map, relationShape, carried) = _relations.TryGetValue(relation.RelationId, out var known)
            ? known
            : throw new InvalidOperationException($"pgoutput sent a row of relation {relation.RelationId} before describing it.");
        var values = new byte[]?[relationShape.Length];
        BatchColumn?[]? shape = null;
        List<int>? asText = null;
        var i = 0;
        await foreach (var value in row.WithCancellation(cancellationToken))
        {
            var carry = carried[i];
            var target = map[i++];
            if (target < 0 || value.IsDBNull)
            {
                continue;
            }

            if (value.IsUnchangedToastedValue)
            {
                if (before is not null && target < before.Length && before[target] is { } old)
                {
                    values[target] = old;
                    if (_toText.TryGetValue(before, out var pending) && pending.Contains(target))
                    {
                        (asText ??= []).Add(target);
                    }
                }
                else
                {
                    shape ??= [.. relationShape];
                    shape[target] = null;
                }

                continue;
            }

            var bytes = new byte[value.Length];
            await using var stream = value.GetStream();
            await stream.ReadExactlyAsync(bytes, cancellationToken);
            values[target] = bytes;
            if (carry.ArrayElement != 0 && bytes.Length >= 12)
            {
                // The array header: dimensions, flags, then the element type's OID.
                BinaryPrimitives.WriteUInt32BigEndian(bytes.AsSpan(8, 4), carry.ArrayElement);
            }
            else if (carry.AsText && value.Kind == TupleDataKind.BinaryValue)
            {
                // A type without a send function arrives as text already.
                (asText ??= []).Add(target);
            }
        }

        if (asText is not null)
        {
            _toText[values] = asText;
        }

        return (values, shape ?? relationShape);
    }

    public void AddUpsert((byte[]?[] Values, BatchColumn?[] Shape) row) =>
        _changes.Add(_toText.ContainsKey(row.Values) ? (null, row.Values, row.Shape) : (Upserted(row.Values, row.Shape), null, null));

    /// <summary>An update whose key changed deletes the old key's row first.</summary>
    public void AddUpdate(byte[]?[] before, (byte[]?[] Values, BatchColumn?[] Shape) after)
    {
        if (_keyIndexes.All(k => before[k] is not null) && Key(before) != Key(after.Values))
        {
            _changes.Add((Deleted(before, after.Shape), null, null));
        }

        // The old row has given the new one its unchanged values; only the new one is written.
        _toText.Remove(before);
        AddUpsert(after);
    }

    /// <summary>A delete keeps only its key, which never travels as text (a key column has a cursor type).</summary>
    public void AddDelete((byte[]?[] Values, BatchColumn?[] Shape) row)
    {
        _toText.Remove(row.Values);
        _changes.Add((Deleted(row.Values, row.Shape), null, null));
    }

    public void AddTruncate() => _changes.Add((new RowTruncated(new byte[]?[plan.Columns.Count], [.. plan.BatchColumns]), null, null));

    /// <summary>
    /// The committed transaction's changes, the values that travel as text turned into text in place
    /// first (in one conversion); the decoder is then ready for the next transaction.
    /// </summary>
    public async ValueTask<IReadOnlyList<RowChange>> CompleteAsync(CancellationToken cancellationToken)
    {
        var waiting = _changes.Where(c => c.Values is not null).Select(c => (c.Values!, (IReadOnlyList<int>)_toText[c.Values!])).ToList();
        if (waiting.Count > 0)
        {
            await text!.ConvertAsync(waiting, cancellationToken);
        }

        var changes = new List<RowChange>(_changes.Count);
        foreach (var (built, values, shape) in _changes)
        {
            changes.Add(built ?? Upserted(values!, shape!));
        }

        _changes.Clear();
        _toText.Clear();
        return changes;
    }

    private RowDeleted Deleted(byte[]?[] values, BatchColumn?[] shape)
    {
        var keyOnly = new byte[]?[values.Length];
        foreach (var k in _keyIndexes)
        {
            keyOnly[k] = values[k];
        }

        return new RowDeleted(keyOnly, Key(values), shape);
    }

    private RowUpserted Upserted(byte[]?[] values, BatchColumn?[] shape)
    {
        foreach (var k in _keyIndexes)
        {
            if (shape[k] is null)
            {
                throw new SourceSchemaException(
                    $"A change of {source.Table} does not carry its key column \"{plan.Columns[k].Name}\" (the column was not in the table when the change was written, or its large value was left out); the job cannot tell which row it changed. Reset the job's watermark to copy the table again.");
            }
        }

        return new RowUpserted(values, Key(values), shape);
    }

    private string Key(byte[]?[] values)
    {
        var key = new StringBuilder();
        foreach (var k in _keyIndexes)
        {
            key.Append(values[k] is { } v ? Convert.ToHexString(v) : "-").Append('|');
        }

        return key.ToString();
    }

    private sealed record Relation(int[] Map, BatchColumn?[] Shape, ValueCarry[] Carries);
}
