using MassTransit;
using Sync.Contracts;
using Sync.Coordinator.Data;

namespace Sync.Coordinator.Runs.Activities;

/// <summary>
/// Makes a starting extraction the run's: a fence of its own (from the run fences' sequence, so
/// above every earlier extraction's and below the next run's), and the run waits for its
/// completion alone, counting from zero. Batches of an earlier extraction that a destination meets
/// after one of this extraction's are refused there (RunFence), so an older row image cannot
/// overwrite a newer one while the watermark moves past it (issue 13, item 6).
/// </summary>
internal sealed class BeginExtractionActivity(CoordinatorDbContext dbContext) : IStateMachineActivity<SyncRunState, BeginExtraction>
{
    public async Task Execute(BehaviorContext<SyncRunState, BeginExtraction> context, IBehavior<SyncRunState, BeginExtraction> next)
    {
        var run = context.Saga;
        run.Fence = await RunFences.NextAsync(dbContext, context.CancellationToken);
        run.ExtractionId = null;
        run.ExpectedBatches = null;
        run.ExtractedRows = 0;
        run.HighCursor = null;
        run.LoadedBatches = 0;
        run.Processed = run.Inserted = run.Updated = run.Skipped = run.Errors = run.Deleted = 0;
        await context.RespondAsync(new ExtractionFenced(run.CorrelationId, context.Message.ExtractionId, run.Fence));
        await next.Execute(context);
    }

    public Task Faulted<TException>(BehaviorExceptionContext<SyncRunState, BeginExtraction, TException> context, IBehavior<SyncRunState, BeginExtraction> next)
        where TException : Exception => next.Faulted(context);

    public void Probe(ProbeContext context) => context.CreateScope("begin-extraction");

    public void Accept(StateMachineVisitor visitor) => visitor.Visit(this);
}
