using Microsoft.Extensions.Options;
using Sync.Connectors;
using Sync.Connectors.Code;
using Sync.Connectors.DuckDb;
using Sync.Connectors.Postgres;
using Sync.Connectors.S3;
using Sync.Contracts;
using Sync.Contracts.Jobs;

namespace Sync.Loader;

/// <summary>Sends a batch to the destination its job names (<c>destination.type</c>).</summary>
internal sealed class BatchDestinations(PostgresDestination postgres, S3Destination s3, DuckDbDestination duckDb, CodeDestination code, IOptions<LoaderOptions> options)
{
    public Task<LoadResult> LoadAsync(LoadBatch message, CancellationToken cancellationToken) => message.Job.Destination.Kind switch
    {
        DestinationKind.S3 => s3.LoadAsync(message.Job, message.RunId, message.ExtractionId, message.BatchSeq, message.Batch, cancellationToken),
        DestinationKind.Code => code.LoadAsync(message.Job, message.RunId, message.ExtractionId, message.BatchSeq, message.Batch, cancellationToken),
        DestinationKind.DuckDb => duckDb.LoadAsync(message.Job, message.RunId, message.ExtractionId, message.BatchSeq, message.Batch, message.Fence, cancellationToken),
        _ => postgres.LoadAsync(
            message.Job, message.RunId, message.ExtractionId, message.BatchSeq, message.Batch, message.Fence, options.Value.InstanceName, cancellationToken),
    };
}
