using Microsoft.EntityFrameworkCore;
using Sync.Contracts;
using Sync.Coordinator.Data;
using Sync.Coordinator.Runs;
using Sync.ServiceDefaults;

namespace Sync.Coordinator.DeadLetters;

/// <summary>
/// The writes to dead_letters, each inside the saga transaction of the message that causes it, so
/// the dead letters of a batch commit with the batch's record and a repeated report adds none.
/// </summary>
internal static class DeadLetterStore
{
    public const string ReplayTrigger = "replay";

    /// <summary>
    /// The rejects of a batch seen for the first time. In a normal run each becomes a pending dead
    /// letter. In a replay run a reject is a replayed record failing again: its dead letter goes
    /// back to pending with one more attempt and the latest reason. <paramref name="stream"/>: the
    /// stream of a streams job the batch loaded (<see cref="DeadLetterStreams.Of"/>), kept with each.
    /// </summary>
    public static async Task RecordRejectsAsync(CoordinatorDbContext dbContext, SyncRunState run, BatchLoaded batch, string? stream, CancellationToken cancellationToken)
    {
        foreach (var reject in batch.Rejected ?? [])
        {
            if (run.Trigger == ReplayTrigger)
            {
                await dbContext.Database.ExecuteSqlAsync(
                    $"""
                    UPDATE dead_letters SET status = 'pending', attempts = attempts + 1, error = {reject.Error}
                    WHERE replay_run_id = {run.CorrelationId} AND replay_batch_seq = {batch.BatchSeq} AND status = 'replaying'
                    """,
                    cancellationToken);
                continue;
            }

            var recorded = await dbContext.Database.ExecuteSqlAsync(
                $"""
                INSERT INTO dead_letters (kind, job_name, stream, run_id, extraction_id, batch_seq, row_index, stage, error, record_columns, record_tuple, record_text)
                VALUES ('record', {batch.JobName}, {stream}, {batch.RunId}, {batch.ExtractionId}, {batch.BatchSeq}, {reject.RowIndex}, {reject.Stage}, {reject.Error},
                        {RecordText.Columns(reject.Record)}::jsonb, {reject.Record.Rows}, {RecordText.Render(reject.Record)}::jsonb)
                ON CONFLICT DO NOTHING
                """,
                cancellationToken);
            SyncTelemetry.DeadLetters.Add(recorded, SyncTelemetry.JobTag(batch.JobName), new("sync.stage", reject.Stage), new("sync.kind", "record"));
        }
    }

    /// <summary>
    /// A run took <paramref name="extractionId"/> as its extraction: dead letters recorded from the
    /// batches of another extraction of the run (a redelivered ExtractBatches) are the same records
    /// again, or records the run does not stand for; they go.
    /// </summary>
    public static Task DiscardOtherExtractionsAsync(CoordinatorDbContext dbContext, Guid runId, Guid extractionId, CancellationToken cancellationToken) =>
        dbContext.Database.ExecuteSqlAsync(
            $"DELETE FROM dead_letters WHERE run_id = {runId} AND kind = 'record' AND extraction_id <> {extractionId}",
            cancellationToken);

    /// <summary>Locks and returns up to <paramref name="limit"/> pending record dead letters of a job (all, or those in <paramref name="ids"/>), oldest first.</summary>
    public static Task<List<DeadLetter>> ClaimPendingAsync(
        CoordinatorDbContext dbContext, string jobName, IReadOnlyList<long>? ids, int limit, CancellationToken cancellationToken)
    {
        var wanted = ids?.ToArray() ?? [];
        return dbContext.DeadLetters.FromSql(
            $"""
            SELECT * FROM dead_letters
            WHERE job_name = {jobName} AND kind = 'record' AND status = 'pending' AND (cardinality({wanted}) = 0 OR id = ANY({wanted}))
            ORDER BY id LIMIT {limit}
            FOR UPDATE SKIP LOCKED
            """).ToListAsync(cancellationToken);
    }

    /// <summary>A replay run completed: every record of it that did not fail again is replayed.</summary>
    public static Task FinishReplayAsync(CoordinatorDbContext dbContext, Guid runId, CancellationToken cancellationToken) =>
        dbContext.Database.ExecuteSqlAsync(
            $"UPDATE dead_letters SET status = 'replayed', resolved_at = now() WHERE replay_run_id = {runId} AND status = 'replaying'",
            cancellationToken);

    /// <summary>A replay run failed: its records are pending again (a record is loaded at most once whatever happens: applied_batches).</summary>
    public static Task ReleaseReplayAsync(CoordinatorDbContext dbContext, Guid runId, CancellationToken cancellationToken) =>
        dbContext.Database.ExecuteSqlAsync(
            $"UPDATE dead_letters SET status = 'pending' WHERE replay_run_id = {runId} AND status = 'replaying'",
            cancellationToken);

    /// <summary>
    /// A stage gave up on a whole message, which is now in <paramref name="queue"/>'s _error queue; once
    /// per message (a repeated report adds nothing), pending again if it fails after being replayed.
    /// </summary>
    public static async Task RecordMessageAsync(
        CoordinatorDbContext dbContext, string jobName, string? stream, Guid runId, int batchSeq, string stage, string reason, string queue, CancellationToken cancellationToken)
    {
        var recorded = await dbContext.Database.ExecuteSqlAsync(
            $"""
            INSERT INTO dead_letters (kind, job_name, stream, run_id, extraction_id, batch_seq, row_index, stage, error, queue)
            VALUES ('message', {jobName}, {stream}, {runId}, {Guid.Empty}, {batchSeq}, -1, {stage}, {reason}, {queue})
            ON CONFLICT (run_id, extraction_id, batch_seq, stage, row_index) DO UPDATE
            SET status = 'pending', error = EXCLUDED.error, resolved_at = NULL
            WHERE dead_letters.status = 'replayed'
            """,
            cancellationToken);
        SyncTelemetry.DeadLetters.Add(recorded, SyncTelemetry.JobTag(jobName), new("sync.stage", stage), new("sync.kind", "message"));
    }

    /// <summary>Messages of <paramref name="queue"/> went back from its error queue: their dead letters are replayed.</summary>
    public static Task<int> ResolveMessagesAsync(CoordinatorDbContext dbContext, string queue, CancellationToken cancellationToken) =>
        dbContext.Database.ExecuteSqlAsync(
            $"UPDATE dead_letters SET status = 'replayed', resolved_at = now(), attempts = attempts + 1 WHERE kind = 'message' AND queue = {queue} AND status = 'pending'",
            cancellationToken);
}
