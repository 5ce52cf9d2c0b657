using System.Runtime.Serialization;
using System.Text.Json;
using MassTransit;

namespace Sync.Messaging.Signing;

/// <summary>
/// First in a stage endpoint's error pipe: a message whose body could not be deserialized (no
/// consumer ran, so the stage retry's give-up never reported it) is reported to its run from its
/// signed <see cref="RunHeaders"/>, as a consumer that gives up reports it; then the default error
/// pipe moves it to the error queue. Consumer faults (<see cref="ReceiveContext.IsFaulted"/>) were
/// reported by the consumer's give-up already; any other receive fault, such as a refused job
/// signature, and headers that are not signed with the installation's key report nothing.
/// </summary>
internal sealed class UnreadableMessageFilter<TFailed>(JobSigner signer, Func<RunHeaders, string, TFailed?> failed) : IFilter<ExceptionReceiveContext>
    where TFailed : class
{
    public async Task Send(ExceptionReceiveContext context, IPipe<ExceptionReceiveContext> next)
    {
        if (!context.IsFaulted
            && context.Exception is SerializationException or JsonException
            && RunHeaders.Read(context.TransportHeaders) is { } run
            && signer.IsSignedRun(run)
            && failed(run, ReasonOf(context)) is { } failure)
        {
            // Before the move to the error queue: if this publish fails, the delivery is not
            // acknowledged and comes back, so the run is never left without the report.
            var endpoint = await context.PublishEndpointProvider.GetPublishSendEndpoint<TFailed>();
            await endpoint.Send(failure, context.CancellationToken);
        }

        await next.Send(context);
    }

    public void Probe(ProbeContext context) => context.CreateFilterScope("unreadable-message");

    private static string ReasonOf(ExceptionReceiveContext context)
    {
        var queue = context.InputAddress.AbsolutePath.Split('/', StringSplitOptions.RemoveEmptyEntries).LastOrDefault() ?? context.InputAddress.ToString();
        var inner = context.Exception.InnerException is { } cause ? $" ({cause.GetType().Name}: {cause.Message})" : string.Empty;
        return $"the message could not be read ({context.Exception.GetType().Name}: {context.Exception.Message}{inner}); it is in the {queue}_error queue";
    }
}
