namespace Sync.Contracts;

/// <summary>The Extractor could not drop the slot of <see cref="DropCdcSlot"/> (connection not configured there, source unreachable); <see cref="Reason"/> says why.</summary>
public sealed record CdcSlotKept(string JobName, string Connection, string Slot, string Reason);
