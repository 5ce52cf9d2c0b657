using MassTransit;
using Sync.Contracts;
using Sync.Coordinator.Runs.Activities;

namespace Sync.Coordinator.Runs;

/// <summary>
/// The life of one run: Extracting while batches are read, Loading once the extraction reported
/// its batch count, Completed when every batch of that extraction is loaded and the watermark is
/// committed. Failed and Rejected leave the watermark where it was. A replay run of dead letters
/// starts Loading with one batch per record and has no watermark to commit.
/// </summary>
public sealed class SyncRunStateMachine : MassTransitStateMachine<SyncRunState>
{
    public SyncRunStateMachine()
    {
        InstanceState(run => run.CurrentState);

        Event(() => RunRequested, e => e.CorrelateById(m => m.Message.RunId));
        Event(() => ReplayRequested, e => e.CorrelateById(m => m.Message.RunId));
        Event(() => ExtractionCompleted, e => { e.CorrelateById(m => m.Message.RunId); e.OnMissingInstance(m => m.Discard()); });
        Event(() => ExtractionFailed, e => { e.CorrelateById(m => m.Message.RunId); e.OnMissingInstance(m => m.Discard()); });
        Event(() => BatchLoaded, e => { e.CorrelateById(m => m.Message.RunId); e.OnMissingInstance(m => m.Discard()); });
        Event(() => CancelRequested, e => { e.CorrelateById(m => m.Message.RunId); e.OnMissingInstance(m => m.Discard()); });
        Event(() => BatchFailed, e => { e.CorrelateById(m => m.Message.RunId); e.OnMissingInstance(m => m.Discard()); });

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
                        waiting => waiting.TransitionTo(Loading))));

        During(Extracting, Loading,
            When(ExtractionCompleted)
                .Activity(x => x.OfType<AcceptExtractionActivity>())
                .IfElse(
                    context => context.Saga.IsFullyLoaded,
                    done => done.Activity(x => x.OfInstanceType<CompleteRunActivity>()).Activity(x => x.OfInstanceType<ContinueStreamActivity>()).TransitionTo(Completed),
                    waiting => waiting.TransitionTo(Loading)),
            When(BatchLoaded)
                .Activity(x => x.OfType<RecordBatchActivity>())
                .If(
                    context => context.Saga.IsFullyLoaded,
                    done => done.Activity(x => x.OfInstanceType<CompleteRunActivity>()).Activity(x => x.OfInstanceType<ContinueStreamActivity>()).TransitionTo(Completed)),
            When(ExtractionFailed)
                .Then(context => context.Saga.FailureReason = $"Extraction failed: {context.Message.Reason}")
                .Activity(x => x.OfInstanceType<FailRunActivity>())
                .TransitionTo(Failed),
            When(CancelRequested)
                .Then(context => context.Saga.FailureReason = context.Message.Reason)
                .Activity(x => x.OfInstanceType<FailRunActivity>())
                .TransitionTo(Failed),
            When(BatchFailed)
                .Then(context => context.Saga.FailureReason =
                    $"Batch {context.Message.BatchSeq} failed in the {context.Message.Stage} stage and is in its error queue: {context.Message.Reason}")
                .Activity(x => x.OfInstanceType<FailRunActivity>())
                .TransitionTo(Failed));

        // A finished run ignores late and repeated messages; its figures are final.
        During(Completed, Failed, Rejected,
            Ignore(RunRequested),
            Ignore(ReplayRequested),
            Ignore(ExtractionCompleted),
            Ignore(ExtractionFailed),
            Ignore(BatchLoaded),
            Ignore(CancelRequested),
            Ignore(BatchFailed));
    }

    public State Extracting { get; private set; } = null!;

    public State Loading { get; private set; } = null!;

    public State Completed { get; private set; } = null!;

    public State Failed { get; private set; } = null!;

    public State Rejected { get; private set; } = null!;

    public Event<StartSyncRun> RunRequested { get; private set; } = null!;

    public Event<ReplayDeadLetters> ReplayRequested { get; private set; } = null!;

    public Event<ExtractionCompleted> ExtractionCompleted { get; private set; } = null!;

    public Event<ExtractionFailed> ExtractionFailed { get; private set; } = null!;

    public Event<BatchLoaded> BatchLoaded { get; private set; } = null!;

    public Event<CancelSyncRun> CancelRequested { get; private set; } = null!;

    public Event<BatchFailed> BatchFailed { get; private set; } = null!;
}
