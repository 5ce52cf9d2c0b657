using System.Text;
using Npgsql.Replication.PgOutput;
using Npgsql.Replication.PgOutput.Messages;
using Sync.Contracts.Jobs;
using Sync.Jobs;

namespace Sync.Connectors.Postgres.Cdc;

/// <summary>
/// Reads, from the changes of a derived job's dependency tables (pgoutput in text mode), the values of
/// each table's key columns (<see cref="FactKeysQueryParameters.KeyColumns"/>) in the new row and in the
/// old one: an insert names the facts of its new row, a delete those of its old row, and an update both,
/// so an item moved to another order derives its old order and its new one again. An update that sends
/// no old row left its replica identity's columns as they were, and the key columns are among them
/// (<see cref="CdcReplicaIdentity"/>), so its new row names its old facts too.
/// </summary>
internal sealed class FactKeyReader(IReadOnlyList<SourceDependency> dependencies, IReadOnlyDictionary<uint, int> dependencyOf)
{
    private readonly Dictionary<uint, (int Dependency, int[] Columns)> _relations = [];

    /// <summary>Which key column each of the relation's columns is (-1: none); the relation is published under its root table's OID.</summary>
    public void Map(RelationMessage relation)
    {
        if (!dependencyOf.TryGetValue(relation.RelationId, out var dependency))
        {
            throw new SourceSchemaException(
                $"The change stream sent table {relation.Namespace}.{relation.RelationName}, which is not one of depends_on (the table was renamed or recreated since the slot was made); reset the job's watermark to copy the query again.");
        }

        var wanted = FactKeysQueryParameters.KeyColumns(dependencies[dependency]);
        var columns = new int[relation.Columns.Count];
        for (var i = 0; i < columns.Length; i++)
        {
            columns[i] = IndexOf(wanted, relation.Columns[i].ColumnName);
        }

        if (wanted.FirstOrDefault(w => !relation.Columns.Any(c => c.ColumnName == w)) is { } missing)
        {
            throw new SourceSchemaException(
                $"Table {dependencies[dependency].Table} has no column \"{missing}\", which depends_on maps to the fact key; fix depends_on, or reset the job's watermark after fixing the table.");
        }

        _relations[relation.RelationId] = (dependency, columns);
    }

    /// <summary>The dependency of the row's relation and its key columns' values as text (null for SQL NULL), in <see cref="FactKeysQueryParameters.KeyColumns"/> order.</summary>
    public async ValueTask<ChangedKey> ReadAsync(RelationMessage relation, ReplicationTuple row, ChangedKey? before, CancellationToken cancellationToken)
    {
        var (dependency, columns) = _relations.TryGetValue(relation.RelationId, out var known)
            ? known
            : throw new InvalidOperationException($"pgoutput sent a row of relation {relation.RelationId} before describing it.");
        var values = new string?[FactKeysQueryParameters.KeyColumns(dependencies[dependency]).Count];
        var i = 0;
        await foreach (var value in row.WithCancellation(cancellationToken))
        {
            var target = columns[i++];
            if (target < 0 || value.IsDBNull)
            {
                continue;
            }

            if (value.IsUnchangedToastedValue)
            {
                // Unchanged, so the old row's value (sent under REPLICA IDENTITY FULL) is this one's.
                values[target] = before?.Values[target];
                continue;
            }

            await using var stream = value.GetStream();
            using var text = new StreamReader(stream, Encoding.UTF8);
            values[target] = await text.ReadToEndAsync(cancellationToken);
        }

        return new ChangedKey(dependency, values);
    }

    private static int IndexOf(IReadOnlyList<string> names, string name)
    {
        for (var i = 0; i < names.Count; i++)
        {
            if (names[i] == name)
            {
                return i;
            }
        }

        return -1;
    }
}

/// <summary>A changed row of dependency <see cref="Dependency"/>: its key columns' values as text.</summary>
internal sealed record ChangedKey(int Dependency, string?[] Values);

/// <summary>The changed keys of one committed source transaction, with the LSN its commit record ends at.</summary>
internal sealed record KeyTransaction(IReadOnlyList<ChangedKey> Keys, NpgsqlTypes.NpgsqlLogSequenceNumber EndLsn, DateTimeOffset CommittedAt);

/// <summary>The distinct changed keys gathered for one re-derivation, per dependency, in arrival order.</summary>
internal sealed class ChangedKeySet(int dependencyCount)
{
    private readonly HashSet<string> _seen = new(StringComparer.Ordinal);
    private readonly List<string?[]>[] _keys = [.. Enumerable.Range(0, dependencyCount).Select(_ => new List<string?[]>())];

    public int Count => _seen.Count;

    public IReadOnlyList<string?[]> Of(int dependency) => _keys[dependency];

    public void Add(ChangedKey key)
    {
        // Keyed by the values' lengths and text, which no two different tuples share.
        var identity = new StringBuilder().Append(key.Dependency).Append('|');
        foreach (var value in key.Values)
        {
            identity.Append(value is null ? "-1" : value.Length.ToString(System.Globalization.CultureInfo.InvariantCulture)).Append(':').Append(value).Append('|');
        }

        if (_seen.Add(identity.ToString()))
        {
            _keys[key.Dependency].Add(key.Values);
        }
    }

    public void Clear()
    {
        _seen.Clear();
        foreach (var list in _keys)
        {
            list.Clear();
        }
    }
}
