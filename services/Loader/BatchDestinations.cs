using Microsoft.Extensions.Options;
using Sync.Connectors;
using Sync.Contracts;

namespace Sync.Loader;

/// <summary>Sends a batch to the destination registered for its job's kind (<c>destination.type</c>).</summary>
internal sealed class BatchDestinations(ConnectorRegistry connectors, IOptions<LoaderOptions> options)
{
    public Task<LoadResult> LoadAsync(LoadBatch message, CancellationToken cancellationToken) =>
        connectors.Destination(message.Job.Destination.Kind).LoadAsync(
            new BatchToLoad(message.Job, message.RunId, message.ExtractionId, message.BatchSeq, message.Batch, message.Fence, options.Value.InstanceName),
            cancellationToken);
}
