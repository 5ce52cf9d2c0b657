using MassTransit;
using Microsoft.Extensions.Options;

namespace Sync.Coordinator.Jobs;

/// <summary>
/// Requests to the stage that holds a connection the Coordinator does not (issue 17), waiting at
/// most <see cref="CoordinatorOptions.StageRequestTimeout"/>. The request expires in its queue
/// after that time too, so a stage that comes back later does not act on an answer nobody awaits.
/// </summary>
internal sealed class StageRequests(IBus bus, IOptions<CoordinatorOptions> options)
{
    public TimeSpan Timeout => options.Value.StageRequestTimeout;

    /// <summary>The bus's own client, not the scope's: a request through the outbox would leave only after a commit.</summary>
    public async Task<Response<T1, T2>> GetResponseAsync<TRequest, T1, T2>(TRequest request, CancellationToken cancellationToken)
        where TRequest : class
        where T1 : class
        where T2 : class
    {
        var client = bus.CreateRequestClient<TRequest>(RequestTimeout.After(ms: (int)Timeout.TotalMilliseconds));
        return await client.GetResponse<T1, T2>(request, x => x.TimeToLive = Timeout, cancellationToken);
    }

    public async Task<T> GetResponseAsync<TRequest, T>(TRequest request, CancellationToken cancellationToken)
        where TRequest : class
        where T : class
    {
        var client = bus.CreateRequestClient<TRequest>(RequestTimeout.After(ms: (int)Timeout.TotalMilliseconds));
        return (await client.GetResponse<T>(request, x => x.TimeToLive = Timeout, cancellationToken)).Message;
    }
}
