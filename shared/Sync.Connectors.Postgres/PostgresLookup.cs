using System.Text;
using Npgsql;
using Sync.Batches;
using Sync.Contracts;
using Sync.Contracts.Jobs;
using Sync.Jobs;

namespace Sync.Connectors.Postgres;

/// <summary>
/// Reads a job's lookup (<see cref="LookupSpec"/>) for one batch with one query:
/// <c>SELECT match::text, column::text FROM table WHERE match = ANY(@keys)</c>, the keys being the
/// batch's distinct key values as a typed array parameter. Identifiers are quoted; values are
/// parameters only. A key with no row, or a null key, gives null.
/// </summary>
public static class PostgresLookup
{
    /// <summary>Key types a lookup can match on, compared by their text form.</summary>
    public static bool IsKeyType(uint oid) => oid is 20 or 21 or 23 or 25 or 1042 or 1043 or 2950;

    /// <summary>
    /// The batch column the lookup adds: its value column's type when a cast can produce it
    /// (boolean, integers, numeric, double precision, text, date, uuid), else text.
    /// </summary>
    /// <exception cref="SourceSchemaException">The table or a column does not exist.</exception>
    public static async Task<BatchColumn> ColumnAsync(NpgsqlConnection connection, LookupSpec lookup, CancellationToken cancellationToken)
    {
        var columns = await PostgresSchema.GetColumnsAsync(connection, lookup.Table, cancellationToken)
            ?? throw new SourceSchemaException($"lookups.{lookup.Name}: table {lookup.Table} does not exist in connection \"{lookup.Connection}\".");
        if (!columns.Any(c => c.Name == lookup.Match))
        {
            throw new SourceSchemaException($"lookups.{lookup.Name}: table {lookup.Table} has no column \"{lookup.Match}\" (match:).");
        }

        var value = columns.FirstOrDefault(c => c.Name == lookup.Column)
            ?? throw new SourceSchemaException($"lookups.{lookup.Name}: table {lookup.Table} has no column \"{lookup.Column}\" (column:).");
        var typed = value.TypeOid is 16 or 20 or 21 or 23 or 25 or 701 or 1082 or 1700 or 2950;
        return new BatchColumn(lookup.Name, typed ? value.TypeOid : PgTypes.Text);
    }

    /// <summary>The lookup's value (binary, of <paramref name="column"/>'s type) for each record of the batch, in order.</summary>
    public static async Task<byte[]?[]> ReadAsync(
        NpgsqlConnection connection, LookupSpec lookup, BatchColumn column, RecordBatch batch, CancellationToken cancellationToken)
    {
        var keyIndex = -1;
        for (var i = 0; i < batch.Columns.Count; i++)
        {
            if (batch.Columns[i].Name == lookup.Key)
            {
                keyIndex = i;
                break;
            }
        }

        if (keyIndex < 0)
        {
            throw new SourceSchemaException($"lookups.{lookup.Name}: the batch has no key column \"{lookup.Key}\".");
        }

        var keyOid = batch.Columns[keyIndex].TypeOid;
        if (!IsKeyType(keyOid))
        {
            throw new SourceSchemaException($"lookups.{lookup.Name}: key \"{lookup.Key}\" has type {PgTypes.SqlName(keyOid)}; a lookup matches on integers, text or uuid.");
        }

        var keys = KeysOf(batch, keyIndex, keyOid);
        var found = new Dictionary<string, byte[]?>(StringComparer.Ordinal);
        var distinct = keys.Where(k => k is not null).Distinct(StringComparer.Ordinal).ToArray();
        if (distinct.Length > 0)
        {
            // The array type comes from PgTypes' fixed table, never from the job file.
            var sql = $"SELECT {SqlIdentifier.Quote(lookup.Match)}::text, {SqlIdentifier.Quote(lookup.Column)}::text " +
                      $"FROM {SqlIdentifier.QuoteQualified(lookup.Table)} " +
                      $"WHERE {SqlIdentifier.Quote(lookup.Match)} = ANY(CAST($1 AS {PgTypes.SqlName(keyOid)}[]))";
            await using var command = new NpgsqlCommand(sql, connection);
            command.Parameters.Add(new NpgsqlParameter { Value = distinct, NpgsqlDbType = NpgsqlTypes.NpgsqlDbType.Array | NpgsqlTypes.NpgsqlDbType.Text });
            await using var reader = await command.ExecuteReaderAsync(cancellationToken);
            while (await reader.ReadAsync(cancellationToken))
            {
                var match = reader.GetString(0);
                var value = reader.IsDBNull(1) ? null : reader.GetString(1);
                // A match column that is not unique: the first row wins.
                found.TryAdd(match, value is null ? null : Encode(value, column.TypeOid));
            }
        }

        return [.. keys.Select(k => k is not null && found.TryGetValue(k, out var value) ? value : null)];
    }

    private static byte[] Encode(string text, uint oid) =>
        oid == PgTypes.Text ? Encoding.UTF8.GetBytes(text) : PgValueCast.Convert(PgTypes.Text, Encoding.UTF8.GetBytes(text), oid);

    private static List<string?> KeysOf(RecordBatch batch, int keyIndex, uint keyOid)
    {
        var keys = new List<string?>(batch.RowCount);
        var fields = new FieldSlice[batch.Columns.Count];
        var reader = new TupleReader(batch.Rows);
        while (reader.TryRead(fields, out _, out _))
        {
            var field = fields[keyIndex];
            keys.Add(field.IsNull ? null : PgValueText.Format(keyOid, field.Of(batch.Rows)));
        }

        return keys;
    }
}
