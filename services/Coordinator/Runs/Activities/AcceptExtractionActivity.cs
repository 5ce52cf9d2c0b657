using System.Text.Json;
using MassTransit;
using Sync.Contracts;
using Sync.Coordinator.Data;
using Sync.Coordinator.DeadLetters;

namespace Sync.Coordinator.Runs.Activities;

/// <summary>
/// Takes the completion of the run's extraction (the one that took the run's fence last, <see cref="BeginExtractionActivity"/>);
/// one of an extraction superseded since, or a second completion, is ignored. A run loaded in key ranges
/// takes the first completion of each range instead (<see cref="RunRanges"/>).
/// </summary>
internal sealed class AcceptExtractionActivity(CoordinatorDbContext dbContext) : IStateMachineActivity<SyncRunState, ExtractionCompleted>
{
    public async Task Execute(BehaviorContext<SyncRunState, ExtractionCompleted> context, IBehavior<SyncRunState, ExtractionCompleted> next)
    {
        var run = context.Saga;
        var message = context.Message;
        if (run.RangeCount is not null)
        {
            // One range of a load in key ranges; a completion without a range is of no extraction the run took.
            if (message.Range is { } index)
            {
                await RunRanges.AcceptAsync(dbContext, run, message, index, context.CancellationToken);
            }
        }
        else if (message.Range is null && run.ExtractionId is null && (message.Fence == 0 || message.Fence == run.Fence))
        {
            run.ExtractionId = message.ExtractionId;
            run.ExpectedBatches = message.BatchCount;
            run.ExtractedRows = message.RowCount;
            run.HighCursor = message.High is null ? null : JsonSerializer.Serialize(message.High);
            await RunProgress.RefreshAsync(dbContext, run, context.CancellationToken);
            await DeadLetterStore.DiscardOtherExtractionsAsync(dbContext, run.CorrelationId, message.ExtractionId, context.CancellationToken);
        }

        await next.Execute(context);
    }

    public Task Faulted<TException>(BehaviorExceptionContext<SyncRunState, ExtractionCompleted, TException> context, IBehavior<SyncRunState, ExtractionCompleted> next)
        where TException : Exception => next.Faulted(context);

    public void Probe(ProbeContext context) => context.CreateScope("accept-extraction");

    public void Accept(StateMachineVisitor visitor) => visitor.Visit(this);
}
