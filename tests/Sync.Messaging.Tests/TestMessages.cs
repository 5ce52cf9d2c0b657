namespace Sync.Messaging.Tests;

/// <summary>A message whose consumer always fails: with a transient error when <see cref="Transient"/>, else a permanent one.</summary>
public sealed record Ping(Guid Id, bool Transient);

/// <summary>What the failing consumer's stage publishes when it gives up on a <see cref="Ping"/>.</summary>
public sealed record PingFailed(Guid Id, string Reason);

/// <summary>A message as large as a stage batch may be on the wire: its bytes travel base64-encoded, as a replayed batch's rows do.</summary>
public sealed record Cargo(Guid Id, byte[] Rows);
