using MassTransit;
using Sync.Connectors.Postgres.Cdc;
using Sync.Contracts;
using Sync.Contracts.Jobs;

namespace Sync.Coordinator.Jobs;

/// <summary>
/// Drops cdc slots through the Extractor, which holds the source connections (issue 17). A reset
/// watermark drops the job's slot and publication, so the slot stops retaining WAL; the job's next
/// run creates both again and copies the table anew — and drops a stale slot itself first, so a
/// reset whose drop the Extractor could not make now loses nothing but the WAL kept meanwhile.
/// </summary>
internal sealed partial class CdcSlots(StageRequests requests, ILogger<CdcSlots> logger)
{
    /// <summary>Drops the slot of a reset job; null when dropped or not a cdc job, otherwise why it was kept.</summary>
    public async Task<string?> DropForResetAsync(JobSpec job, CancellationToken cancellationToken)
    {
        if (job.Mode != SyncMode.Cdc)
        {
            return null;
        }

        var name = CdcSlot.NameOf(job.Name);
        var kept = await DropAsync(new DropCdcSlot(job.Name, job.Source.Connection, name, name, EndReader: false), cancellationToken);
        if (kept is not null)
        {
            LogResetSlotKept(name, job.Name, kept);
        }

        return kept;
    }

    /// <summary>Asks the Extractor to drop the slot; null when it did, otherwise why it was kept.</summary>
    public async Task<string?> DropAsync(DropCdcSlot request, CancellationToken cancellationToken)
    {
        try
        {
            var response = await requests.GetResponseAsync<DropCdcSlot, CdcSlotDropped, CdcSlotKept>(request, cancellationToken);
            return response.Is(out Response<CdcSlotKept>? kept) ? kept.Message.Reason : null;
        }
        catch (RequestTimeoutException)
        {
            return $"the Extractor did not answer within {requests.Timeout.TotalSeconds:0} s";
        }
        catch (RequestFaultException fault)
        {
            return $"the Extractor failed: {fault.Fault?.Exceptions.FirstOrDefault()?.Message ?? fault.Message}";
        }
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Replication slot {Slot} of reset cdc job {JobName} was not dropped now: {Reason}; the job's next run drops and makes it again")]
    private partial void LogResetSlotKept(string slot, string jobName, string reason);
}
