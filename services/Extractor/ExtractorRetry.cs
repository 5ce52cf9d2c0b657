using MassTransit;
using Sync.Connectors;
using Sync.Messaging.Redelivery;

namespace Sync.Extractor;

internal static class ExtractorRetry
{
    // Database calls retry in the connector's pipeline; this retries only what it did not.
    public static StageRetry Source { get; } = new(TransientErrors.IsTransient, TransientErrors.IsWorthRetryingInProcess,
        retry => retry.Exponential(3, TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(10), TimeSpan.FromSeconds(2)));
}
