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

    /// <summary>The rows of <paramref name="keys"/> (key texts) that the side holds, within its condition, as <see cref="LeafAsync"/> reads them.</summary>
    public static async Task<List<LeafRow>> RowsByKeyAsync(NpgsqlConnection connection, VerifySide side, IReadOnlyCollection<string> keys, CancellationToken cancellationToken)
    {
        var keysParameter = side.Parameters.Count + 1;
        await using var command = Command(
            connection,
            $"SELECT {side.KeyText}, ARRAY[{string.Join(", ", side.Key)}]::text[], {side.ColumnsArray}::text[] FROM {side.Relation} WHERE {side.Where} AND {side.KeyText} = ANY(${keysParameter})",
            side,
            (object)keys.ToArray());
        var rows = new List<LeafRow>();
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
        {
            rows.Add(new LeafRow(reader.GetString(0), reader.GetFieldValue<string?[]>(1), reader.GetFieldValue<string?[]>(2)));
        }

        return rows;
    }

    /// <summary>The WAL position now; as a transaction's first statement, it also takes its snapshot, which sees every commit before it.</summary>
    public static async Task<string> CurrentLsnAsync(NpgsqlConnection connection, CancellationToken cancellationToken)
    {
        await using var command = new NpgsqlCommand("SELECT pg_current_wal_lsn()::text", connection);
        return (string)(await command.ExecuteScalarAsync(cancellationToken))!;
    }

    /// <summary>Whether the slot has confirmed <paramref name="lsn"/> (null: no such slot). Sync confirms a cdc slot only up to the committed watermark, so what it confirmed is loaded.</summary>
    public static async Task<bool?> SlotPassedAsync(NpgsqlConnection connection, string slot, string lsn, CancellationToken cancellationToken)
    {
        await using var command = new NpgsqlCommand("SELECT coalesce(confirmed_flush_lsn >= $1::pg_lsn, false) FROM pg_replication_slots WHERE slot_name = $2", connection);
        command.Parameters.Add(new NpgsqlParameter { Value = lsn });
        command.Parameters.Add(new NpgsqlParameter { Value = slot });
        return await command.ExecuteScalarAsync(cancellationToken) is bool passed ? passed : null;
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
