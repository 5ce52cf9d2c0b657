using Npgsql;

namespace Sync.Connectors.Postgres.Verification;

/// <summary>A bucket's row count and the sum of its rows' hashes.</summary>
internal readonly record struct BucketDigest(long Rows, decimal HashSum);

/// <summary>A row of a differing bucket: its key as one text (for matching), the key's values and the compared columns.</summary>
internal sealed record LeafRow(string KeyText, string?[] Key, string?[] Columns);

/// <summary>The queries of a verification, each over one side. Values travel as parameters only.</summary>
internal static class VerifyQueries
{
    /// <summary>Timestamps render as ISO text in both databases whatever their DateStyle (for this transaction only).</summary>
    public static async Task UseIsoDatesAsync(NpgsqlConnection connection, CancellationToken cancellationToken)
    {
        await using var command = new NpgsqlCommand("SET LOCAL DateStyle = 'ISO, YMD'", connection);
        await command.ExecuteNonQueryAsync(cancellationToken);
    }

    public static async Task<long> CountAsync(NpgsqlConnection connection, VerifySide side, CancellationToken cancellationToken)
    {
        await using var command = Command(connection, $"SELECT count(*) FROM {side.Relation} WHERE {side.Where}", side);
        return (long)(await command.ExecuteScalarAsync(cancellationToken))!;
    }

    public static async Task<Dictionary<long, BucketDigest>> DigestAsync(NpgsqlConnection connection, VerifySide side, long mask, CancellationToken cancellationToken)
    {
        var maskParameter = side.Parameters.Count + 1;
        await using var command = Command(
            connection,
            $"SELECT {side.Bucket(maskParameter)}, count(*), sum({side.RowHash}) FROM {side.Relation} WHERE {side.Where} GROUP BY 1",
            side,
            mask);
        var digests = new Dictionary<long, BucketDigest>();
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
        {
            digests[reader.GetInt64(0)] = new BucketDigest(reader.GetInt64(1), reader.GetDecimal(2));
        }

        return digests;
    }

    public static async Task<List<LeafRow>> LeafAsync(NpgsqlConnection connection, VerifySide side, long mask, long[] buckets, CancellationToken cancellationToken)
    {
        var maskParameter = side.Parameters.Count + 1;
        await using var command = Command(
            connection,
            $"SELECT {side.KeyText}, ARRAY[{string.Join(", ", side.Key)}]::text[], {side.ColumnsArray}::text[] FROM {side.Relation} WHERE {side.Where} AND {side.Bucket(maskParameter)} = ANY(${maskParameter + 1})",
            side,
            mask,
            buckets);
        var rows = new List<LeafRow>();
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
        {
            rows.Add(new LeafRow(reader.GetString(0), reader.GetFieldValue<string?[]>(1), reader.GetFieldValue<string?[]>(2)));
        }

        return rows;
    }

    /// <summary>Which of <paramref name="keys"/> (key texts) the side holds at all, past its condition too.</summary>
    public static async Task<HashSet<string>> ExistingKeysAsync(NpgsqlConnection connection, VerifySide side, IReadOnlyCollection<string> keys, CancellationToken cancellationToken)
    {
        await using var command = new NpgsqlCommand($"SELECT {side.KeyText} FROM {side.Relation} WHERE {side.KeyText} = ANY($1)", connection);
        command.Parameters.Add(new NpgsqlParameter { Value = keys.ToArray() });
        var found = new HashSet<string>(StringComparer.Ordinal);
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
        {
            found.Add(reader.GetString(0));
        }

        return found;
    }

    private static NpgsqlCommand Command(NpgsqlConnection connection, string sql, VerifySide side, params object[] more)
    {
        // Hashing a million rows takes seconds; the default 30 s would cut off a large table.
        var command = new NpgsqlCommand(sql, connection) { CommandTimeout = 0 };
        foreach (var value in side.Parameters.Concat(more))
        {
            command.Parameters.Add(new NpgsqlParameter { Value = value });
        }

        return command;
    }
}
