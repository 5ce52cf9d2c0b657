using Npgsql;
using Sync.Batches;

namespace Sync.Connectors.Postgres;

/// <summary>The deletes of a change batch: their key tuples COPYed into the emptied staging table, then one DELETE (or soft-delete UPDATE) … USING it.</summary>
internal static class ChangeDeletes
{
    /// <summary>A TRUNCATE of the cdc source: every destination row goes (or is stamped); returns how many.</summary>
    public static async Task<int> ApplyTruncateAsync(NpgsqlConnection connection, MergePlan plan, CancellationToken cancellationToken)
    {
        await using var delete = new NpgsqlCommand(plan.DeleteAll, connection);
        return (int)(await delete.ExecuteScalarAsync(cancellationToken))!;
    }

    public static async Task<int> ApplyAsync(NpgsqlConnection connection, MergePlan plan, byte[] deletes, CancellationToken cancellationToken)
    {
        await using (var clear = new NpgsqlCommand(plan.ClearStaging, connection))
        {
            await clear.ExecuteNonQueryAsync(cancellationToken);
        }

        await using (var copy = await connection.BeginRawBinaryCopyAsync(plan.Copy, cancellationToken))
        {
            await copy.WriteAsync(CopyFormat.Header.ToArray(), cancellationToken);
            await copy.WriteAsync(deletes, cancellationToken);
            await copy.WriteAsync(CopyFormat.Trailer.ToArray(), cancellationToken);
        }

        await using var delete = new NpgsqlCommand(plan.Delete, connection);
        return (int)(await delete.ExecuteScalarAsync(cancellationToken))!;
    }
}
