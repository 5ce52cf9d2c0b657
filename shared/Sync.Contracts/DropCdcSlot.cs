namespace Sync.Contracts;

/// <summary>
/// Asks the Extractor, which holds the source connections, to drop a cdc job's replication slot and
/// publication on <see cref="Connection"/> (issue 17: the Coordinator opens no source database);
/// answered with <see cref="CdcSlotDropped"/> or <see cref="CdcSlotKept"/>. <see cref="EndReader"/>:
/// the job is gone, so a walsender still streaming from the slot is ended first; otherwise (a
/// watermark reset) a slot in use is left for the job's next run to drop and make again.
/// </summary>
public sealed record DropCdcSlot(string JobName, string Connection, string Slot, string Publication, bool EndReader);
