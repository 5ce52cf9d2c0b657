using MassTransit;
using Sync.Connectors.Postgres;
using Sync.Contracts;

namespace Sync.Extractor;

/// <summary>
/// Reads a source's catalog for the Coordinator, which resolves a job's <c>streams:</c> and answers
/// <c>syncctl discover</c> with it (issue 18): the Extractor holds the source connections.
/// </summary>
internal sealed class DiscoverSourceTablesConsumer(SourceCatalog catalog) : IConsumer<DiscoverSourceTables>
{
    public async Task Consume(ConsumeContext<DiscoverSourceTables> context) =>
        await context.RespondAsync(await catalog.DiscoverAsync(context.Message, context.CancellationToken));
}
