using Npgsql;

namespace Sync.Connectors.Postgres;

/// <summary>
/// Forgets applied batches older than the retention in a destination's sync.applied_batches (the
/// Loader's inbox), a slice at a time so no delete holds many row locks or a long transaction.
/// </summary>
public static class AppliedBatchRetention
{
    /// <summary>Deletes rows applied more than <paramref name="retention"/> ago; returns how many.</summary>
    public static async Task<long> DeleteOlderThanAsync(NpgsqlDataSource destination, TimeSpan retention, int sliceSize, CancellationToken cancellationToken)
    {
        await using var connection = await destination.OpenConnectionAsync(cancellationToken);
        await using (var exists = new NpgsqlCommand("SELECT to_regclass('sync.applied_batches') IS NOT NULL", connection))
        {
            if (!(bool)(await exists.ExecuteScalarAsync(cancellationToken))!)
            {
                return 0;
            }
        }

        long deleted = 0;
        while (true)
        {
            await using var command = new NpgsqlCommand(
                """
                DELETE FROM sync.applied_batches WHERE ctid = ANY (ARRAY(
                    SELECT ctid FROM sync.applied_batches WHERE applied_at < now() - $1 LIMIT $2))
                """,
                connection);
            command.Parameters.Add(new NpgsqlParameter { Value = retention });
            command.Parameters.Add(new NpgsqlParameter { Value = sliceSize });
            var slice = await command.ExecuteNonQueryAsync(cancellationToken);
            deleted += slice;
            if (slice < sliceSize)
            {
                return deleted;
            }
        }
    }
}
