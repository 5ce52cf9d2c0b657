namespace Sync.Messaging.Signing;

/// <summary>
/// A stage message whose job is unsigned or wrongly signed: refused before anything runs, never
/// retried nor redelivered, and not reported to the run (a forger may name any run); the message
/// goes to the error queue with this reason.
/// </summary>
public sealed class UnsignedJobException(string message) : Exception(message);
