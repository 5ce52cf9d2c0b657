using MassTransit;
using Sync.Connectors.Postgres;
using Sync.Contracts;

namespace Sync.Extractor;

/// <summary>
/// Checks a job against its live source and destination schemas for the Coordinator's
/// POST /api/jobs/validate (issue 17): the Extractor holds the source connections, and the
/// destination's for verify already (read-only is enough).
/// </summary>
internal sealed class CheckJobSchemaConsumer(JobSchemaCheck schemaCheck, CursorValues cursorValues) : IConsumer<CheckJobSchema>
{
    public async Task Consume(ConsumeContext<CheckJobSchema> context)
    {
        if (context.Message.CursorValues is { } values)
        {
            // A watermark to set or a backfill's range (issue 18, item 4): only the values are read.
            var (parsed, problem) = await cursorValues.ParseAsync(context.Message.Job, values, context.CancellationToken);
            await context.RespondAsync(new JobSchemaChecked(
                context.Message.JobName, problem is null ? [] : [new JobSchemaProblem(problem.Field, problem.Message)], parsed));
            return;
        }

        var problems = await schemaCheck.CheckAsync(context.Message.Job, context.CancellationToken);
        await context.RespondAsync(new JobSchemaChecked(context.Message.JobName, problems.Select(p => new JobSchemaProblem(p.Field, p.Message)).ToList()));
    }
}
