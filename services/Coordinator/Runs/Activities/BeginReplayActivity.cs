using MassTransit;
using Microsoft.EntityFrameworkCore;
using Sync.Contracts;
using Sync.Contracts.Jobs;
using Sync.Coordinator.Data;
using Sync.Coordinator.DeadLetters;
using Sync.Coordinator.Jobs;

namespace Sync.Coordinator.Runs.Activities;

/// <summary>
/// Starts a replay run: claims the job's pending record dead letters (replaying, this run), and
/// sends each back with the job as it is now. A record of a database source is read again by key:
/// the Extractor publishes the row as the source has it now (or its delete, or nothing, when it is
/// gone), so a replay never writes back an image the source has since changed or deleted (issue 14,
/// item 6); the Coordinator does not open source databases itself. A record of a source that cannot
/// be read by key (http, files, code; see <see cref="ReplayKeys"/>) goes back as stored — a
/// Transformer reject as a TransformBatch, a Loader reject as a LoadBatch. Each record travels as
/// its own batch of the run, so a record failing again maps to its dead letter by batch number. No
/// extraction and no high cursor: the watermark stays where it is. A record of a cdc streams job goes
/// with its stream's job (<see cref="DeadLetterStreams"/>), so it is read from that stream's source
/// table and loaded into its destination table; one that names no stream the job follows is left
/// pending (the API refuses such a replay with the reason).
/// </summary>
internal sealed class BeginReplayActivity(JobCatalog jobs, CoordinatorDbContext dbContext) : IStateMachineActivity<SyncRunState, ReplayDeadLetters>
{
    /// <summary>Records per replay run; dead letters are the exception, and each is one message.</summary>
    public const int Limit = 1000;

    public async Task Execute(BehaviorContext<SyncRunState, ReplayDeadLetters> context, IBehavior<SyncRunState, ReplayDeadLetters> next)
    {
        var run = context.Saga;
        var message = context.Message;
        var job = await RunAdmission.AdmitAsync(
            run, message.JobName, DeadLetterStore.ReplayTrigger, message.RequestedAt, jobs, dbContext, context.CancellationToken);
        if (job is null)
        {
            await next.Execute(context);
            return;
        }

        var letters = (await DeadLetterStore.ClaimPendingAsync(dbContext, job.Name, message.Ids, Limit, context.CancellationToken))
            .Where(l => DeadLetterStreams.ReplayJob(job, l) is not null).ToList();
        var extractionId = NewId.NextGuid();
        run.ExtractionId = extractionId;
        run.Fence = await RunFences.NextAsync(dbContext, context.CancellationToken);
        run.ExpectedBatches = letters.Count;
        run.ExtractedRows = letters.Count;
        // Keys to read again, per job they are read with (the job, or each stream of a cdc streams job).
        var keys = new Dictionary<string, (JobSpec Job, List<ReplayKey> Keys)>(StringComparer.Ordinal);
        for (var seq = 0; seq < letters.Count; seq++)
        {
            var letter = letters[seq];
            var recordJob = DeadLetterStreams.ReplayJob(job, letter)!;
            letter.Status = DeadLetterStates.Replaying;
            letter.ReplayRunId = run.CorrelationId;
            letter.ReplayBatchSeq = seq;
            if (ReplayKeys.Of(recordJob, letter) is { } key)
            {
                if (!keys.TryGetValue(recordJob.Name, out var reread))
                {
                    keys[recordJob.Name] = reread = (recordJob, []);
                }

                reread.Keys.Add(new ReplayKey(seq, key));
                continue;
            }

            var record = RecordText.Restore(letter.RecordColumns!, letter.RecordTuple!);
            if (letter.Stage == "transform")
            {
                await context.Publish(new TransformBatch(run.CorrelationId, job.Name, extractionId, seq, recordJob, record, run.Fence), context.CancellationToken);
            }
            else
            {
                await context.Publish(new LoadBatch(run.CorrelationId, job.Name, extractionId, seq, recordJob, record, 0, Rejected: null, run.Fence), context.CancellationToken);
            }
        }

        foreach (var (recordJob, streamKeys) in keys.Values)
        {
            await context.Publish(new RereadRecords(run.CorrelationId, job.Name, extractionId, recordJob, streamKeys, run.Fence), context.CancellationToken);
        }

        await next.Execute(context);
    }

    public Task Faulted<TException>(BehaviorExceptionContext<SyncRunState, ReplayDeadLetters, TException> context, IBehavior<SyncRunState, ReplayDeadLetters> next)
        where TException : Exception => next.Faulted(context);

    public void Probe(ProbeContext context) => context.CreateScope("begin-replay");

    public void Accept(StateMachineVisitor visitor) => visitor.Visit(this);
}
