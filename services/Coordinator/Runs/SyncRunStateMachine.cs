using MassTransit;
using Sync.Contracts;
using Sync.Coordinator.Runs.Activities;

namespace Sync.Coordinator.Runs;

/// <summary>
/// The life of one run: Extracting while batches are read, Loading once the extraction reported
/// its batch count, Completed when every batch of that extraction is loaded and the watermark is
/// committed. Failed and Rejected leave the watermark where it was. A replay run of dead letters
/// starts Loading with one batch per record and has no watermark to commit. A full refresh that
/// deletes goes from Loading to Sweeping: the Loader removes the rows the run did not load, then
/// the run completes. A load in key ranges (source.range_size) stays Extracting until every range's
/// extraction is taken (<see cref="RunRanges"/>), then waits for all their batches.
/// </summary>
public sealed class SyncRunStateMachine : MassTransitStateMachine<SyncRunState>
{
    public SyncRunStateMachine()
    {
        InstanceState(run => run.CurrentState);

        Event(() => RunRequested, e => e.CorrelateById(m => m.Message.RunId));
        Event(() => ReplayRequested, e => e.CorrelateById(m => m.Message.RunId));
        Event(() => RepairRequested, e => e.CorrelateById(m => m.Message.RunId));
        Event(() => ExtractionRequested, e =>
        {
            e.CorrelateById(m => m.Message.RunId);
            e.OnMissingInstance(m => m.ExecuteAsync(x => x.RespondAsync(new ExtractionFenced(x.Message.RunId, x.Message.ExtractionId, 0))));
        });
        Event(() => ExtractionPlanned, e => { e.CorrelateById(m => m.Message.RunId); e.OnMissingInstance(m => m.Discard()); });
        Event(() => ExtractionProgressed, e => { e.CorrelateById(m => m.Message.RunId); e.OnMissingInstance(m => m.Discard()); });
        Event(() => ExtractionCompleted, e => { e.CorrelateById(m => m.Message.RunId); e.OnMissingInstance(m => m.Discard()); });
        Event(() => ExtractionFailed, e => { e.CorrelateById(m => m.Message.RunId); e.OnMissingInstance(m => m.Discard()); });
        Event(() => BatchLoaded, e => { e.CorrelateById(m => m.Message.RunId); e.OnMissingInstance(m => m.Discard()); });
        Event(() => CancelRequested, e => { e.CorrelateById(m => m.Message.RunId); e.OnMissingInstance(m => m.Discard()); });
        Event(() => BatchFailed, e => { e.CorrelateById(m => m.Message.RunId); e.OnMissingInstance(m => m.Discard()); });
        Event(() => DeletesSwept, e => { e.CorrelateById(m => m.Message.RunId); e.OnMissingInstance(m => m.Discard()); });

        Initially(
            When(RunRequested)
                .Activity(x => x.OfType<BeginRunActivity>())
                .IfElse(
                    context => context.Saga.FailureReason is null,
                    accepted => accepted.TransitionTo(Extracting),
                    refused => refused.TransitionTo(Rejected)),
            When(ReplayRequested)
                .Activity(x => x.OfType<BeginReplayActivity>())
                .IfElse(
                    context => context.Saga.FailureReason is not null,
                    refused => refused.TransitionTo(Rejected),
                    accepted => accepted.IfElse(
                        context => context.Saga.IsFullyLoaded,
                        done => done.Activity(x => x.OfInstanceType<CompleteRunActivity>()).Activity(x => x.OfInstanceType<ContinueStreamActivity>()).TransitionTo(Completed),
                        waiting => waiting.TransitionTo(Loading))),
            When(RepairRequested)
                .Activity(x => x.OfType<BeginRepairActivity>())
                .IfElse(
                    context => context.Saga.FailureReason is not null,
                    refused => refused.TransitionTo(Rejected),
                    accepted => accepted.IfElse(
                        context => context.Saga.IsFullyLoaded,
                        done => done.Activity(x => x.OfInstanceType<CompleteRunActivity>()).TransitionTo(Completed),
                        waiting => waiting.TransitionTo(Loading))));

        // The Extractor is still reading: progress for the run timeout. Once an extraction is accepted
        // (Loading), another one's reports are not the run's progress.
        // A load in key ranges is planned once, while the run extracts (RunRanges).
        During(Extracting,
            When(ExtractionProgressed)
                .Then(context => RunProgress.Touch(context.Saga)),
            When(ExtractionPlanned)
                .Activity(x => x.OfType<PlanRangesActivity>()));

        During(Loading, Sweeping,
            Ignore(ExtractionProgressed),
            Ignore(ExtractionPlanned));

        During(Extracting, Loading,
            When(ExtractionRequested, context => context.Saga.RangeCount is null)
                .Activity(x => x.OfType<BeginExtractionActivity>())
                .TransitionTo(Extracting),
            When(ExtractionRequested, context => context.Saga.RangeCount is not null)
                .Activity(x => x.OfType<BeginRangeReadActivity>()),
            When(ExtractionCompleted)
                .Activity(x => x.OfType<AcceptExtractionActivity>())
                .IfElse(
                    context => context.Saga.IsFullyLoaded,
                    Finish,
                    waiting => waiting.If(context => context.Saga.ExpectedBatches is not null, accepted => accepted.TransitionTo(Loading))),
            When(BatchLoaded)
                .Activity(x => x.OfType<RecordBatchActivity>())
                .If(
                    context => context.Saga.IsFullyLoaded,
                    Finish),
            Fail(When(ExtractionFailed), context => $"Extraction failed: {context.Message.Reason}"),
            Fail(When(CancelRequested), context => context.Message.Reason),
            Fail(
                When(BatchFailed),
                context => $"Batch {context.Message.BatchSeq} failed in the {context.Message.Stage} stage and is in its error queue: {context.Message.Reason}"),
            Ignore(DeletesSwept));

        During(Sweeping,
            When(DeletesSwept, context => !context.Message.Superseded)
                .Then(context => context.Saga.Deleted += context.Message.Deleted)
                .Activity(x => x.OfInstanceType<CompleteRunActivity>())
                .TransitionTo(Completed),
            Fail(
                When(DeletesSwept, context => context.Message.Superseded),
                _ => "A later run of the job loaded into the destination before this run's sweep; nothing was deleted."),
            Fail(When(CancelRequested), context => context.Message.Reason),
            Fail(
                When(BatchFailed),
                context => $"The sweep of deleted rows failed and is in the {context.Message.Stage} error queue; nothing was deleted: {context.Message.Reason}"),
            Ignore(RunRequested),
            Ignore(ReplayRequested),
            Ignore(RepairRequested),
            Ignore(ExtractionCompleted),
            Ignore(ExtractionFailed),
            Ignore(BatchLoaded),
            RefuseExtraction());

        // A finished run ignores late and repeated messages; its figures are final.
        During(Completed, Failed, Rejected,
            Ignore(RunRequested),
            Ignore(ReplayRequested),
            Ignore(RepairRequested),
            Ignore(ExtractionProgressed),
            Ignore(ExtractionPlanned),
            Ignore(ExtractionCompleted),
            Ignore(ExtractionFailed),
            Ignore(BatchLoaded),
            Ignore(CancelRequested),
            Ignore(BatchFailed),
            Ignore(DeletesSwept),
            RefuseExtraction());
    }

    // A run that has every batch (or has ended) needs no further extraction: it publishes nothing.
    private EventActivities<SyncRunState> RefuseExtraction() =>
        When(ExtractionRequested).Respond(context => new ExtractionFenced(context.Message.RunId, context.Message.ExtractionId, 0));

    // The run ends Failed for this reason; its watermark stays where it was.
    private EventActivityBinder<SyncRunState, T> Fail<T>(EventActivityBinder<SyncRunState, T> when, Func<BehaviorContext<SyncRunState, T>, string> reason)
        where T : class =>
        when.Then(context => context.Saga.FailureReason = reason(context))
            .Activity(x => x.OfInstanceType<FailRunActivity>())
            .TransitionTo(Failed);

    // Every batch is loaded: a full refresh that deletes sweeps first (or fails when it read no row
    // and may not empty the destination); any other run completes.
    private EventActivityBinder<SyncRunState, T> Finish<T>(EventActivityBinder<SyncRunState, T> done)
        where T : class =>
        done.IfElse(
            context => context.Saga.SweepsDeletes,
            sweep => sweep
                .Activity(x => x.OfInstanceType<RequestDeleteSweepActivity>())
                .IfElse(
                    context => context.Saga.FailureReason is null,
                    sent => sent.TransitionTo(Sweeping),
                    refused => refused.Activity(x => x.OfInstanceType<FailRunActivity>()).TransitionTo(Failed)),
            complete => complete.Activity(x => x.OfInstanceType<CompleteRunActivity>()).Activity(x => x.OfInstanceType<ContinueStreamActivity>()).TransitionTo(Completed));

    public State Extracting { get; private set; } = null!;

    public State Loading { get; private set; } = null!;

    public State Sweeping { get; private set; } = null!;

    public State Completed { get; private set; } = null!;

    public State Failed { get; private set; } = null!;

    public State Rejected { get; private set; } = null!;

    public Event<StartSyncRun> RunRequested { get; private set; } = null!;

    public Event<ReplayDeadLetters> ReplayRequested { get; private set; } = null!;

    public Event<RepairKeys> RepairRequested { get; private set; } = null!;

    public Event<BeginExtraction> ExtractionRequested { get; private set; } = null!;

    public Event<ExtractionPlanned> ExtractionPlanned { get; private set; } = null!;

    public Event<ExtractionProgressed> ExtractionProgressed { get; private set; } = null!;

    public Event<ExtractionCompleted> ExtractionCompleted { get; private set; } = null!;

    public Event<ExtractionFailed> ExtractionFailed { get; private set; } = null!;

    public Event<BatchLoaded> BatchLoaded { get; private set; } = null!;

    public Event<CancelSyncRun> CancelRequested { get; private set; } = null!;

    public Event<BatchFailed> BatchFailed { get; private set; } = null!;

    public Event<DeletesSwept> DeletesSwept { get; private set; } = null!;
}
