namespace Sync.Connectors.Resilience;

/// <summary>
/// A source or destination call still failed transiently after the connector's own quick retries,
/// or its circuit is open. Transient (the inner exception says why), so the message is redelivered
/// later; but retrying it in process again would only stack retries on retries.
/// </summary>
public sealed class ConnectorUnavailableException(string connection, Exception inner)
    : Exception($"Connection \"{connection}\" is unavailable after the connector's retries: {inner.Message}", inner)
{
    public string ConnectionName { get; } = connection;
}
