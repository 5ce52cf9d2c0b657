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
/// Each row is read with the columns of its own relation as the stream last described it: every
/// partition of a partitioned table is a relation of its own (its column order may differ), and a
/// relation described again after an ALTER TABLE applies to the changes after it, not before.
/// </summary>
internal sealed class ChangeDecoder(SourcePlan plan, SourceSpec source)
{
    private readonly int[] _keyIndexes = [.. source.PrimaryKey.Select(k => plan.Columns.ToList().FindIndex(c => c.Name == k))];
    private readonly Dictionary<uint, Relation> _relations = [];

    /// <summary>Reads a relation's columns: which plan column each feeds, and in which type it comes.</summary>
    public void Map(RelationMessage relation)
    {
        var map = new int[relation.Columns.Count];
        var shape = new BatchColumn?[plan.Columns.Count];
        for (var i = 0; i < map.Length; i++)
        {
            var column = relation.Columns[i];
            map[i] = plan.Columns.ToList().FindIndex(c => c.Name == column.ColumnName);
            if (map[i] < 0)
            {
                // A column the job does not read (added after the run's plan was made, or left out under columns:).
                continue;
            }

            // A type changed since the change was written: the value comes in the type it had then,
            // and the Loader casts it to the destination's (a value that does not cast is set aside there).
            if (!PgTypes.IsSupported(column.DataTypeId) && column.DataTypeId != plan.Columns[map[i]].TypeOid)
            {
                throw new SourceSchemaException(
                    $"Column \"{column.ColumnName}\" of {source.Table} had type OID {column.DataTypeId} when a change still unread was written, which mode: cdc cannot carry; leave it out under columns:, or reset the job's watermark to copy the table again.");
            }

            shape[map[i]] = new BatchColumn(plan.Columns[map[i]].Name, column.DataTypeId == plan.Columns[map[i]].TypeOid ? plan.Columns[map[i]].BatchTypeOid : column.DataTypeId);
        }

        _relations[relation.RelationId] = new Relation(map, shape);
    }

    /// <summary>
    /// The row's values in plan order, and its shape: a plan column the relation lacks, or whose
    /// unchanged TOASTed value pgoutput left out (REPLICA IDENTITY other than FULL), is not carried,
    /// unless <paramref name="before"/> has it.
    /// </summary>
    public async ValueTask<(byte[]?[] Values, BatchColumn?[] Shape)> ReadAsync(RelationMessage relation, ReplicationTuple row, byte[]?[]? before, CancellationToken cancellationToken)
    {
        var (map, relationShape) = _relations.TryGetValue(relation.RelationId, out var known)
            ? known
            : throw new InvalidOperationException($"pgoutput sent a row of relation {relation.RelationId} before describing it.");
        var values = new byte[]?[plan.Columns.Count];
        BatchColumn?[]? shape = null;
        var i = 0;
        await foreach (var value in row.WithCancellation(cancellationToken))
        {
            var target = map[i++];
            if (target < 0 || value.IsDBNull)
            {
                continue;
            }

            if (value.IsUnchangedToastedValue)
            {
                if (before?[target] is { } old)
                {
                    values[target] = old;
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
        }

        return (values, shape ?? relationShape);
    }

    public async ValueTask<RowChange> UpsertAsync(RelationMessage relation, ReplicationTuple row, CancellationToken cancellationToken)
    {
        var (values, shape) = await ReadAsync(relation, row, null, cancellationToken);
        return Upserted(values, shape);
    }

    /// <summary>An update whose key changed deletes the old key's row first.</summary>
    public void AddUpdate(List<RowChange> changes, byte[]?[] before, (byte[]?[] Values, BatchColumn?[] Shape) after)
    {
        var upserted = Upserted(after.Values, after.Shape);
        if (_keyIndexes.All(k => before[k] is not null) && Key(before) != upserted.Key)
        {
            changes.Add(Deleted(before, after.Shape));
        }

        changes.Add(upserted);
    }

    public RowChange Deleted(byte[]?[] values, BatchColumn?[] shape)
    {
        var keyOnly = new byte[]?[values.Length];
        foreach (var k in _keyIndexes)
        {
            keyOnly[k] = values[k];
        }

        return new RowDeleted(keyOnly, Key(values), shape);
    }

    public RowChange Truncated() => new RowTruncated(new byte[]?[plan.Columns.Count], [.. plan.BatchColumns]);

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

    private sealed record Relation(int[] Map, BatchColumn?[] Shape);
}
