using Microsoft.EntityFrameworkCore;
using Sync.Connectors.Postgres.Cdc;
using Sync.Contracts;
using Sync.Contracts.Jobs;
using Sync.Coordinator.Data;

namespace Sync.Coordinator.Jobs;

/// <summary>
/// The slots and publications Sync made for cdc jobs (sync_cdc_slots), and their removal once a
/// job's file is gone: the slot would otherwise keep WAL on the source for ever. Every cdc run
/// records its job's slot on its source connection as it begins, so the Coordinator still knows the
/// source after the file is deleted. Only recorded slots are dropped, never one of a job still
/// defined, and never by guessing from a name. The Extractor drops them (<see cref="DropCdcSlot"/>):
/// it holds the source connections, the Coordinator none (issue 17).
/// </summary>
internal sealed partial class CdcSlotCleanup(CoordinatorDbContext dbContext, CdcSlots slots, ILogger<CdcSlotCleanup> logger)
{
    private const string RecordsSql =
        $"SELECT job AS \"Job\", connection AS \"Connection\", slot AS \"Slot\", publication AS \"Publication\" FROM {ControlTables.CdcSlots} ORDER BY job, connection";

    /// <summary>Records the slot a cdc run of <paramref name="job"/> reads (or is about to create); in the caller's transaction.</summary>
    public static async Task RecordAsync(CoordinatorDbContext dbContext, JobSpec job, CancellationToken cancellationToken)
    {
        if (job.Mode != SyncMode.Cdc)
        {
            return;
        }

        var name = CdcSlot.NameOf(job.Name);
        await dbContext.Database.ExecuteSqlRawAsync(
            $"INSERT INTO {ControlTables.CdcSlots} (job, connection, slot, publication) VALUES ({{0}}, {{1}}, {{2}}, {{3}}) ON CONFLICT (job, connection) DO NOTHING",
            [job.Name, job.Source.Connection, name, name],
            cancellationToken);
    }

    /// <summary>
    /// Whether a completing cdc run of <paramref name="job"/> may commit its watermark: only while the
    /// job's slot record exists, and the record is held FOR SHARE until the caller's transaction
    /// ends. The removal deletes the record before the watermark in one transaction, so the two
    /// serialise on that row: a removal that went first leaves no record and the run commits nothing;
    /// a run that went first makes the removal wait, and the removal's next statement deletes the
    /// watermark the run committed. Either way a removed job keeps no watermark, whichever Coordinator
    /// (or replica) completes the run, and a job added again copies afresh.
    /// </summary>
    public static async Task<bool> HoldRecordAsync(CoordinatorDbContext dbContext, JobSpec job, CancellationToken cancellationToken)
    {
        if (job.Mode != SyncMode.Cdc)
        {
            return true;
        }

        var held = await dbContext.Database.SqlQuery<int>(
                $"SELECT 1 AS \"Value\" FROM sync_cdc_slots WHERE job = {job.Name} AND connection = {job.Source.Connection} FOR SHARE")
            .ToListAsync(cancellationToken);
        return held.Count > 0;
    }

    /// <summary>
    /// Drops the recorded slots of every job not in <paramref name="definedJobs"/> (only
    /// <paramref name="onlyJob"/>'s when given), with their publication, the record and the job's
    /// watermark, so a job added again later copies its table afresh. A record whose connection
    /// the Extractor does not have, whose source fails, or that the Extractor does not answer for
    /// in time, is kept for the next attempt.
    /// </summary>
    public async Task<IReadOnlyList<CdcSlotOutcome>> RemoveOrphansAsync(
        IReadOnlySet<string> definedJobs, string? onlyJob, CancellationToken cancellationToken)
    {
        var records = await dbContext.Database.SqlQueryRaw<CdcSlotRecord>(RecordsSql).ToListAsync(cancellationToken);
        var outcomes = new List<CdcSlotOutcome>();
        foreach (var record in records.Where(r => onlyJob is null || r.Job == onlyJob))
        {
            outcomes.Add(await RemoveAsync(record, definedJobs, cancellationToken));
        }

        return outcomes;
    }

    private async Task<CdcSlotOutcome> RemoveAsync(CdcSlotRecord record, IReadOnlySet<string> definedJobs, CancellationToken cancellationToken)
    {
        if (definedJobs.Contains(record.Job))
        {
            return record.Outcome(CdcSlotFate.Kept, "the job is still defined");
        }

        var kept = await slots.DropAsync(new DropCdcSlot(record.Job, record.Connection, record.Slot, record.Publication, EndReader: true), cancellationToken);
        if (kept is not null)
        {
            var reason = $"{kept}; kept and tried again later";
            LogSlotKept(record.Slot, record.Job, reason);
            return record.Outcome(CdcSlotFate.Skipped, reason);
        }

        await using var transaction = await dbContext.Database.BeginTransactionAsync(cancellationToken);
        await dbContext.Database.ExecuteSqlRawAsync(
            $"DELETE FROM {ControlTables.CdcSlots} WHERE job = {{0}} AND connection = {{1}}", [record.Job, record.Connection], cancellationToken);
        await dbContext.Watermarks.Where(w => w.Key == record.Job).ExecuteDeleteAsync(cancellationToken);
        await transaction.CommitAsync(cancellationToken);
        LogSlotDropped(record.Slot, record.Job, record.Connection);
        return record.Outcome(CdcSlotFate.Dropped, null);
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Dropped replication slot and publication {Slot} of removed cdc job {Job} on connection {Connection}, and its watermark")]
    private partial void LogSlotDropped(string slot, string job, string connection);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Replication slot {Slot} of removed cdc job {Job} was not dropped: {Reason}")]
    private partial void LogSlotKept(string slot, string job, string reason);
}

/// <summary>A row of sync_cdc_slots.</summary>
internal sealed record CdcSlotRecord(string Job, string Connection, string Slot, string Publication)
{
    public CdcSlotOutcome Outcome(CdcSlotFate fate, string? reason) => new(Job, Connection, Slot, fate, reason);
}

internal enum CdcSlotFate
{
    /// <summary>The slot (if it still existed), its publication, the record and the job's watermark are gone.</summary>
    Dropped,

    /// <summary>The job is still defined: its slot is in use.</summary>
    Kept,

    /// <summary>The slot could not be dropped now (connection unknown to the Extractor, source unreachable, the Extractor not answering); the record stays for the next attempt.</summary>
    Skipped,
}

/// <summary>What became of one recorded slot.</summary>
internal sealed record CdcSlotOutcome(string Job, string Connection, string Slot, CdcSlotFate Fate, string? Reason);
