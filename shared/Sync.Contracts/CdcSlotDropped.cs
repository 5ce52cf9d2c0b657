namespace Sync.Contracts;

/// <summary>The slot and publication of <see cref="DropCdcSlot"/> are gone; <see cref="Existed"/> says whether the slot was still there.</summary>
public sealed record CdcSlotDropped(string JobName, string Connection, string Slot, bool Existed);
