using System.Text.Json;
using MassTransit;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using Sync.Contracts;

namespace Sync.Coordinator.Runs.Activities;

/// <summary>
/// Takes the first plan of a run's load in key ranges: records every range (sync_run_ranges) and sends
/// each as an <see cref="ExtractBatches"/> of its own, in the saga's transaction and outbox, so a range
/// is never lost nor sent without its record. The plan's last position is the watermark to commit
/// once every range is loaded. A second plan (a redelivered planning message) is ignored.
/// </summary>
internal sealed class PlanRangesActivity(Data.CoordinatorDbContext dbContext, IOptions<CoordinatorOptions> options) : IStateMachineActivity<SyncRunState, ExtractionPlanned>
{
    public async Task Execute(BehaviorContext<SyncRunState, ExtractionPlanned> context, IBehavior<SyncRunState, ExtractionPlanned> next)
    {
        var run = context.Saga;
        var plan = context.Message;
        if (run is { RangeCount: null, ExtractionId: null })
        {
            var indexes = plan.Ranges.Select(r => r.Index).ToArray();
            var froms = plan.Ranges.Select(r => r.From).ToArray();
            var tos = plan.Ranges.Select(r => r.To).ToArray();
            await dbContext.Database.ExecuteSqlAsync(
                $"""
                INSERT INTO sync_run_ranges (run_id, range_index, key_from, key_to)
                SELECT {run.CorrelationId}, r.i, r.f, r.t FROM unnest({indexes}, {froms}::text[], {tos}::text[]) AS r(i, f, t)
                ON CONFLICT DO NOTHING
                """,
                context.CancellationToken);
            run.RangeCount = plan.Ranges.Count;
            run.RangesExtracted = 0;
            run.HighCursor = plan.High is null ? null : JsonSerializer.Serialize(plan.High);
            var interval = RunProgress.ReportInterval(options.Value.RunTimeout);
            foreach (var range in plan.Ranges)
            {
                await context.Publish(
                    new ExtractBatches(run.CorrelationId, run.JobName, plan.Job, null, run.Fence, interval, KeyRange: range),
                    context.CancellationToken);
            }

            RunProgress.Touch(run);
        }

        await next.Execute(context);
    }

    public Task Faulted<TException>(BehaviorExceptionContext<SyncRunState, ExtractionPlanned, TException> context, IBehavior<SyncRunState, ExtractionPlanned> next)
        where TException : Exception => next.Faulted(context);

    public void Probe(ProbeContext context) => context.CreateScope("plan-ranges");

    public void Accept(StateMachineVisitor visitor) => visitor.Visit(this);
}
