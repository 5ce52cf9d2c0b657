using Npgsql;

namespace Sync.Connectors.Postgres;

/// <summary>
/// Change batches of one extraction must be applied in their order (a later batch may change a row
/// an earlier one changed; cursor batches never share a row, so they are applied in any order). A
/// change batch waits briefly until its predecessor is in sync.applied_batches, or until a later run
/// has superseded its own (then the fence check refuses it); otherwise it throws
/// <see cref="ChangeBatchOutOfOrderException"/>, and the Loader puts the batch back at the end of its
/// queue. Waiting longer would hold a consumer slot that the predecessor may need: with every slot
/// taken by successors, nothing would move (seen with 4 slots and batches reordered by the Transformer).
/// </summary>
internal static class ChangeOrder
{
    private static readonly TimeSpan Patience = TimeSpan.FromMilliseconds(500);
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
                throw new ChangeBatchOutOfOrderException($"Change batch {batchSeq} of run {runId} arrived before batch {batchSeq - 1}.");
            }

            await Task.Delay(Poll, cancellationToken);
        }
    }
}

/// <summary>A change batch came before its predecessor was applied; it goes back to the end of the queue.</summary>
public sealed class ChangeBatchOutOfOrderException(string message) : Exception(message);
