using Npgsql;

namespace Sync.Connectors.Postgres;

/// <summary>
/// The newest run of each job a destination has loaded (sync.job_fences), checked in the load
/// transaction: a batch of an older run — a duplicate extraction or a delayed redelivery arriving
/// after a later run started — is refused, so it cannot overwrite that run's newer rows. Dropping it
/// loses nothing: its run has ended, and a failed run's rows are read again by the next one.
/// </summary>
internal static class RunFence
{
    /// <summary>
    /// Raises the job's fence to <paramref name="fence"/> when it is lower, in a short transaction of
    /// its own: the row lock waits for older runs' batches still being applied (they hold FOR SHARE),
    /// and is released at once, so one slow batch of the new run does not hold up its other batches.
    /// Call it outside a transaction, before <see cref="AdmitAsync"/>.
    /// </summary>
    public static async Task RaiseAsync(NpgsqlConnection connection, string jobName, long fence, CancellationToken cancellationToken)
    {
        var current = await ScalarAsync(connection, "SELECT fence FROM sync.job_fences WHERE job_name = $1", jobName, null, cancellationToken);
        if (current is null || current < fence)
        {
            await ScalarAsync(
                connection,
                """
                INSERT INTO sync.job_fences AS f (job_name, fence) VALUES ($1, $2)
                ON CONFLICT (job_name) DO UPDATE SET fence = GREATEST(f.fence, EXCLUDED.fence), raised_at = now()
                RETURNING fence
                """,
                jobName,
                fence,
                cancellationToken);
        }
    }

    /// <summary>
    /// Whether a batch of the run with <paramref name="fence"/> may be applied (the fence, raised by
    /// <see cref="RaiseAsync"/>, is still the run's); holds a shared lock until the transaction ends,
    /// so a later run cannot raise the fence while an admitted batch is applied, while batches of the
    /// same run load side by side.
    /// </summary>
    public static async Task<bool> AdmitAsync(NpgsqlConnection connection, string jobName, long fence, CancellationToken cancellationToken) =>
        await ScalarAsync(connection, AdmitSql, jobName, null, cancellationToken) == fence;

    /// <summary>The statement of <see cref="AdmitAsync"/>, for a batch of statements sent in one round trip; its result is read with <see cref="ReadAdmittedAsync"/>.</summary>
    public static NpgsqlBatchCommand Admit(string jobName) => new(AdmitSql) { Parameters = { new NpgsqlParameter { Value = jobName } } };

    public static async Task<bool> ReadAdmittedAsync(NpgsqlDataReader reader, long fence, CancellationToken cancellationToken) =>
        await reader.ReadAsync(cancellationToken) && !await reader.IsDBNullAsync(0, cancellationToken) && reader.GetInt64(0) == fence;

    private const string AdmitSql = "SELECT fence FROM sync.job_fences WHERE job_name = $1 FOR SHARE";

    private static async Task<long?> ScalarAsync(NpgsqlConnection connection, string sql, string jobName, long? fence, CancellationToken cancellationToken)
    {
        await using var command = new NpgsqlCommand(sql, connection);
        command.Parameters.Add(new NpgsqlParameter { Value = jobName });
        if (fence is not null)
        {
            command.Parameters.Add(new NpgsqlParameter { Value = fence.Value });
        }

        return await command.ExecuteScalarAsync(cancellationToken) is long value ? value : null;
    }
}
