using MassTransit;

namespace Sync.Messaging.Signing;

/// <summary>
/// Every send and publish of a message that carries a job gets its signature (<see cref="JobSigner.Header"/>):
/// the Coordinator's commands, and the batches a stage passes on with the job it verified.
/// </summary>
internal sealed class JobSigningFilter<T>(JobSigner signer) : IFilter<SendContext<T>>, IFilter<PublishContext<T>>
    where T : class
{
    public Task Send(SendContext<T> context, IPipe<SendContext<T>> next)
    {
        Sign(context);
        return next.Send(context);
    }

    public Task Send(PublishContext<T> context, IPipe<PublishContext<T>> next)
    {
        Sign(context);
        return next.Send(context);
    }

    public void Probe(ProbeContext context) => context.CreateFilterScope("job-signing");

    private void Sign(SendContext<T> context)
    {
        if (signer.Sign(context.Message) is { } signature)
        {
            context.Headers.Set(JobSigner.Header, signature);
        }
    }
}

/// <summary>
/// Before any consumer: a message that carries a job acts only when its signature holds (issue 20,
/// item 3), so a broker client without the key runs no query and writes no table. Refused messages
/// throw <see cref="UnsignedJobException"/>, which nothing retries, and go to the error queue.
/// </summary>
internal sealed class JobSignatureFilter<T>(JobSigner signer) : IFilter<ConsumeContext<T>>
    where T : class
{
    public Task Send(ConsumeContext<T> context, IPipe<ConsumeContext<T>> next)
    {
        if (!JobSigner.IsSigned<T>())
        {
            return next.Send(context);
        }

        var signature = context.Headers.Get<string>(JobSigner.Header);
        return signer.Refusal(context.Message, signature) is { } refusal
            ? throw new UnsignedJobException($"{typeof(T).Name} {context.MessageId} refused: {refusal}.")
            : next.Send(context);
    }

    public void Probe(ProbeContext context) => context.CreateFilterScope("job-signature");
}
