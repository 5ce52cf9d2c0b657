using MassTransit;

namespace Sync.Messaging.Signing;

/// <summary>
/// Every send and publish of a message that carries RunId and JobName (by convention, as
/// <see cref="RunContextFilter{T}"/> reads them) gets signed <see cref="RunHeaders"/>: a stage that
/// cannot deserialize it can still fail its run (<see cref="UnreadableMessageFilter{TFailed}"/>).
/// </summary>
internal sealed class RunHeadersFilter<T>(JobSigner signer) : IFilter<SendContext<T>>, IFilter<PublishContext<T>>
    where T : class
{
    public Task Send(SendContext<T> context, IPipe<SendContext<T>> next)
    {
        Stamp(context);
        return next.Send(context);
    }

    public Task Send(PublishContext<T> context, IPipe<PublishContext<T>> next)
    {
        Stamp(context);
        return next.Send(context);
    }

    public void Probe(ProbeContext context) => context.CreateFilterScope("run-headers");

    private void Stamp(SendContext<T> context)
    {
        if (MessageRun<T>.Read?.Invoke(context.Message) is { } run)
        {
            (run with { Signature = signer.SignRun(run) }).WriteTo(context.Headers);
        }
    }
}
