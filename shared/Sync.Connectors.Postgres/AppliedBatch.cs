using System.Text.Json;
using Npgsql;
using NpgsqlTypes;

namespace Sync.Connectors.Postgres;

/// <summary>
/// The Loader's inbox in the destination database: one row per applied (run, batch), written in
/// the transaction that applies the batch (OUTBOX.md, "The Loader's special case").
/// </summary>
internal static class AppliedBatch
{
    public static bool IsDuplicate(PostgresException exception) =>
        exception.SqlState == PostgresErrorCodes.UniqueViolation && exception.TableName == "applied_batches";

    public static async Task<LoadResult?> FindAsync(NpgsqlConnection connection, Guid runId, Guid extractionId, int batchSeq, CancellationToken cancellationToken)
    {
        await using var command = new NpgsqlCommand(FindSql, connection);
        AddFindParameters(command.Parameters, runId, extractionId, batchSeq);
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        return await ReadFoundAsync(reader, cancellationToken);
    }

    /// <summary>The statement of <see cref="FindAsync"/>, for a batch of statements sent in one round trip; its result is read with <see cref="ReadFoundAsync"/>.</summary>
    public static NpgsqlBatchCommand Find(Guid runId, Guid extractionId, int batchSeq)
    {
        var command = new NpgsqlBatchCommand(FindSql);
        AddFindParameters(command.Parameters, runId, extractionId, batchSeq);
        return command;
    }

    public static async Task<LoadResult?> ReadFoundAsync(NpgsqlDataReader reader, CancellationToken cancellationToken)
    {
        if (!await reader.ReadAsync(cancellationToken))
        {
            return null;
        }

        var rejected = JsonSerializer.Deserialize<List<RowRejection>>(reader.GetString(4)) ?? [];
        return new LoadResult(reader.GetInt32(0), reader.GetInt32(1), reader.GetInt32(2), reader.GetInt32(3), Replayed: false, rejected, Deleted: reader.GetInt32(5));
    }

    private const string FindSql =
        "SELECT rows, inserted, updated, skipped, rejected::text, deleted FROM sync.applied_batches WHERE run_id = $1 AND extraction_id = $2 AND batch_seq = $3";

    private static void AddFindParameters(NpgsqlParameterCollection parameters, Guid runId, Guid extractionId, int batchSeq)
    {
        parameters.Add(new NpgsqlParameter { Value = runId });
        parameters.Add(new NpgsqlParameter { Value = extractionId });
        parameters.Add(new NpgsqlParameter { Value = batchSeq });
    }

    public static async Task RecordAsync(NpgsqlConnection connection, string jobName, Guid runId, Guid extractionId, int batchSeq, LoadResult result, string? loadedBy, CancellationToken cancellationToken)
    {
        await using var command = new NpgsqlCommand(
            "INSERT INTO sync.applied_batches (run_id, extraction_id, batch_seq, job_name, rows, inserted, updated, skipped, rejected, loaded_by, deleted) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)",
            connection);
        command.Parameters.Add(new NpgsqlParameter { Value = runId });
        command.Parameters.Add(new NpgsqlParameter { Value = extractionId });
        command.Parameters.Add(new NpgsqlParameter { Value = batchSeq });
        command.Parameters.Add(new NpgsqlParameter { Value = jobName });
        command.Parameters.Add(new NpgsqlParameter { Value = result.Rows });
        command.Parameters.Add(new NpgsqlParameter { Value = result.Inserted });
        command.Parameters.Add(new NpgsqlParameter { Value = result.Updated });
        command.Parameters.Add(new NpgsqlParameter { Value = result.Skipped });
        command.Parameters.Add(new NpgsqlParameter { Value = JsonSerializer.Serialize(result.Rejected), NpgsqlDbType = NpgsqlDbType.Jsonb });
        command.Parameters.Add(new NpgsqlParameter { Value = (object?)loadedBy ?? DBNull.Value, NpgsqlDbType = NpgsqlDbType.Text });
        command.Parameters.Add(new NpgsqlParameter { Value = result.Deleted });
        await command.ExecuteNonQueryAsync(cancellationToken);
    }
}
