namespace Sync.Connectors.Http;

/// <summary>
/// The API answered 5xx, 408 or (past the Retry-After waits) 429, or a request timed out: worth another
/// attempt. An <see cref="IOException"/>, so <see cref="TransientErrors"/> and the connector pipeline treat it as transient.
/// </summary>
public sealed class TransientHttpException(string message, Exception? inner = null) : IOException(message, inner);
