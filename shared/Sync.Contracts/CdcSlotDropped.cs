namespace Sync.Contracts;

/// <summary>
/// The slot and publication of <see cref="DropCdcSlot"/> are gone. <see cref="Existed"/>: whether the
/// slot was still there; a reset (<see cref="DropCdcSlot.EndReader"/> false) does not look, and says true.
/// </summary>
public sealed record CdcSlotDropped(string JobName, string Connection, string Slot, bool Existed);
