using System.Buffers.Binary;
using System.Text;
using Npgsql.Replication.PgOutput;
using Npgsql.Replication.PgOutput.Messages;
using Sync.Batches;
using Sync.Contracts.Jobs;

namespace Sync.Connectors.Postgres.Cdc;

/// <summary>
/// Turns pgoutput rows (binary mode: each value in its type's send format, as binary COPY carries
/// it) into tuples in the plan's column order, so a change travels like a row of the initial copy.
/// A value is copied as it is, but for the few columns <see cref="CdcTypes"/> says travel otherwise.
/// </summary>
internal sealed class ChangeDecoder(SourcePlan plan, SourceSpec source, IReadOnlyList<ValueCarry> carries, TextConversion? text)
{
    private readonly int[] _keyIndexes = [.. source.PrimaryKey.Select(k => plan.Columns.ToList().FindIndex(c => c.Name == k))];

    // The open transaction's changes. A row with values still to turn into text waits for the commit
    // (one conversion per transaction); any other is built at once, so its values are not kept.
    private readonly List<(RowChange? Built, byte[]?[]? Waiting)> _changes = [];

    // Rows read with values still in binary form that travel as text, with those columns.
    private readonly Dictionary<byte[]?[], List<int>> _toText = new(ReferenceEqualityComparer.Instance);
    private int[] _map = [];

    /// <summary>Reads a relation's columns: which plan column each feeds, and that the types still match.</summary>
    public void Map(RelationMessage relation)
    {
        var map = new int[relation.Columns.Count];
        var seen = 0;
        for (var i = 0; i < map.Length; i++)
        {
            var column = relation.Columns[i];
            map[i] = plan.Columns.ToList().FindIndex(c => c.Name == column.ColumnName);
            if (map[i] < 0)
            {
                continue;
            }

            seen++;
            if (plan.Columns[map[i]].TypeOid != column.DataTypeId)
            {
                throw new SourceSchemaException(
                    $"Column \"{column.ColumnName}\" of {source.Table} changed type while the job streamed (OID {plan.Columns[map[i]].TypeOid} → {column.DataTypeId}); change the destination to match, then the next run reads it.");
            }
        }

        if (seen < plan.Columns.Count)
        {
            throw new SourceSchemaException($"A column the job reads was dropped from {source.Table} while it streamed; change the job's columns: to match.");
        }

        _map = map;
    }

    /// <summary>The row's values in plan order; an unchanged TOASTed value is taken from <paramref name="before"/> when it has it.</summary>
    public async ValueTask<byte[]?[]> ReadAsync(ReplicationTuple row, byte[]?[]? before, CancellationToken cancellationToken)
    {
        var values = new byte[]?[plan.Columns.Count];
        List<int>? asText = null;
        var i = 0;
        await foreach (var value in row.WithCancellation(cancellationToken))
        {
            var target = _map[i++];
            if (target < 0 || value.IsDBNull)
            {
                continue;
            }

            if (value.IsUnchangedToastedValue)
            {
                values[target] = before?[target] ?? throw new SourceSchemaException(
                    $"An update of {source.Table} left the large (TOASTed) value of \"{plan.Columns[target].Name}\" out of the change stream; ALTER TABLE {source.Table} REPLICA IDENTITY FULL, so the old row carries it.");
                if (_toText.TryGetValue(before, out var pending) && pending.Contains(target))
                {
                    (asText ??= []).Add(target);
                }

                continue;
            }

            var bytes = new byte[value.Length];
            await using var stream = value.GetStream();
            await stream.ReadExactlyAsync(bytes, cancellationToken);
            values[target] = bytes;
            var carry = carries[target];
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

        return values;
    }

    public void AddUpsert(byte[]?[] values) =>
        _changes.Add(_toText.ContainsKey(values) ? (null, values) : (Upserted(values), null));

    /// <summary>An update whose key changed deletes the old key's row first.</summary>
    public void AddUpdate(byte[]?[] before, byte[]?[] after)
    {
        if (_keyIndexes.All(k => before[k] is not null) && Key(before) != Key(after))
        {
            AddDelete(before);
        }

        // The old row has given the new one its unchanged values; only the new one is written.
        _toText.Remove(before);
        AddUpsert(after);
    }

    /// <summary>A delete keeps only its key, which never travels as text.</summary>
    public void AddDelete(byte[]?[] values)
    {
        _toText.Remove(values);
        _changes.Add((Deleted(values), null));
    }

    /// <summary>The committed transaction's changes; the decoder is then ready for the next one.</summary>
    public async ValueTask<IReadOnlyList<RowChange>> CompleteAsync(CancellationToken cancellationToken)
    {
        if (_toText.Count > 0)
        {
            await text!.ConvertAsync([.. _changes.Where(c => c.Waiting is not null).Select(c => (c.Waiting!, (IReadOnlyList<int>)_toText[c.Waiting!]))], cancellationToken);
        }

        var changes = new List<RowChange>(_changes.Count);
        foreach (var (built, values) in _changes)
        {
            changes.Add(built ?? Upserted(values!));
        }

        _changes.Clear();
        _toText.Clear();
        return changes;
    }

    private RowUpserted Upserted(byte[]?[] values) => new(Tuple(values), Key(values));

    private RowDeleted Deleted(byte[]?[] values)
    {
        var keyOnly = new byte[]?[values.Length];
        foreach (var k in _keyIndexes)
        {
            keyOnly[k] = values[k];
        }

        return new RowDeleted(Tuple(keyOnly), Key(values));
    }

    private static byte[] Tuple(byte[]?[] values)
    {
        var buffer = new TupleBuffer(64 + values.Sum(v => v?.Length ?? 0) + (4 * values.Length));
        buffer.BeginTuple(values.Length);
        foreach (var value in values)
        {
            buffer.AppendField(value, value is null);
        }

        return buffer.ToArray();
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
}
