namespace Sync.Connectors;

/// <summary>The source's schema does not fit the job: a permanent error, not worth a retry.</summary>
public sealed class SourceSchemaException(string message) : Exception(message);
