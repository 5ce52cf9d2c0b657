namespace Sync.Connectors;

/// <summary>The destination's schema does not fit the job: a permanent error, not worth a retry.</summary>
public sealed class DestinationSchemaException(string message) : Exception(message);
