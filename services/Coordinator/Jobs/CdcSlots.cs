using Sync.Connectors;
using Sync.Connectors.Postgres.Cdc;
using Sync.Contracts.Jobs;

namespace Sync.Coordinator.Jobs;

/// <summary>
/// A reset watermark drops a cdc job's replication slot and publication, so the slot stops retaining
/// WAL; the job's next run creates both again and copies the table anew. When the Coordinator has no
/// connection for the source, the Extractor's next run of the job drops and recreates them instead.
/// </summary>
internal static class CdcSlots
{
    public static async Task DropAsync(JobSpec job, ConnectionCatalog connections, CancellationToken cancellationToken)
    {
        if (job.Mode != SyncMode.Cdc || !connections.IsDefined(job.Source.Connection))
        {
            return;
        }

        await using var connection = await connections.Get(job.Source.Connection).OpenConnectionAsync(cancellationToken);
        await CdcSlot.DropAsync(connection, job.Name, cancellationToken);
    }
}
