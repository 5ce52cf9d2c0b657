using MassTransit;
using Sync.Connectors;
using Sync.Messaging.Redelivery;

namespace Sync.Loader;

internal static class LoaderRetry
{
    // Database calls retry in the connector's pipeline; this retries only what it did not.
    public static StageRetry Destination { get; } = new(TransientErrors.IsTransient, TransientErrors.IsWorthRetryingInProcess,
        retry => retry.Exponential(3, TimeSpan.FromMilliseconds(200), TimeSpan.FromSeconds(5), TimeSpan.FromMilliseconds(500)));
}
