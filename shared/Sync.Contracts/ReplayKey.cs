namespace Sync.Contracts;

/// <summary>One record of a replay run to read again: the source primary-key values (PostgreSQL text form, in key order) and the run's batch for it.</summary>
public sealed record ReplayKey(int BatchSeq, IReadOnlyList<string> Values);
