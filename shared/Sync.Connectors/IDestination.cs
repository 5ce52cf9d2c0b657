namespace Sync.Connectors;

/// <summary>Applies batches to a job's destination idempotently; one per <see cref="Sync.Contracts.Jobs.DestinationKind"/>.</summary>
public interface IDestination
{
    /// <summary>Applies the batch once: a batch applied before reports its first counts again (<see cref="LoadResult.Replayed"/>).</summary>
    Task<LoadResult> LoadAsync(BatchToLoad load, CancellationToken cancellationToken);
}
