using MassTransit;
using Sync.Connectors.Postgres;
using Sync.Contracts;

namespace Sync.Extractor;

/// <summary>
/// Checks a job against its live source and destination schemas for the Coordinator's
/// POST /api/jobs/validate (issue 17): the Extractor holds the source connections, and the
/// destination's for verify already (read-only is enough).
/// </summary>
internal sealed class CheckJobSchemaConsumer(JobSchemaCheck schemaCheck) : IConsumer<CheckJobSchema>
{
    public async Task Consume(ConsumeContext<CheckJobSchema> context)
    {
        var problems = await schemaCheck.CheckAsync(context.Message.Job, context.CancellationToken);
        await context.RespondAsync(new JobSchemaChecked(context.Message.JobName, problems.Select(p => new JobSchemaProblem(p.Field, p.Message)).ToList()));
    }
}
