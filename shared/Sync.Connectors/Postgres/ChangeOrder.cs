using Npgsql;

namespace Sync.Connectors.Postgres;

/// <summary>
/// Change batches of one extraction must be applied in their order (a later batch may change a row
/// an earlier one changed; cursor batches never share a row, so they are applied in any order). A
/// change batch waits until its predecessor is in sync.applied_batches, or until a later run has
/// superseded its own (then the fence check refuses it).
/// </summary>
internal static class ChangeOrder
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(30);
    private static readonly TimeSpan Poll = TimeSpan.FromMilliseconds(10);

    public static async Task WaitForPredecessorAsync(NpgsqlConnection connection, string jobName, Guid runId, Guid extractionId, int batchSeq, long fence, CancellationToken cancellationToken)
    {
        if (batchSeq <= 1)
        {
            return;
        }

        await using var command = new NpgsqlCommand(
            """
            SELECT EXISTS (SELECT 1 FROM sync.applied_batches WHERE run_id = $1 AND extraction_id = $2 AND batch_seq = $3)
                OR EXISTS (SELECT 1 FROM sync.job_fences WHERE job_name = $4 AND fence > $5)
            """,
            connection);
        command.Parameters.Add(new NpgsqlParameter { Value = runId });
        command.Parameters.Add(new NpgsqlParameter { Value = extractionId });
        command.Parameters.Add(new NpgsqlParameter { Value = batchSeq - 1 });
        command.Parameters.Add(new NpgsqlParameter { Value = jobName });
        command.Parameters.Add(new NpgsqlParameter { Value = fence });
        var deadline = DateTimeOffset.UtcNow + Patience;
        while (!(bool)(await command.ExecuteScalarAsync(cancellationToken))!)
        {
            if (DateTimeOffset.UtcNow > deadline)
            {
                // Transient: the predecessor is still on its way (redelivered, or queued behind this one).
                throw new TimeoutException($"Change batch {batchSeq} of run {runId} waited {Patience.TotalSeconds:0} s for batch {batchSeq - 1}; it will be retried.");
            }

            await Task.Delay(Poll, cancellationToken);
        }
    }
}
