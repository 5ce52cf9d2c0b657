using MassTransit;
using Microsoft.Extensions.Logging;
using Sync.Connectors.S3;
using Sync.Contracts;

namespace Sync.Loader;

/// <summary>Checks an S3 destination's run against its manifest and counts and responds with what it found (issue 15).</summary>
internal sealed partial class VerifyS3RunConsumer(S3RunVerifier verifier, ILogger<VerifyS3RunConsumer> logger) : IConsumer<VerifyS3Run>
{
    public async Task Consume(ConsumeContext<VerifyS3Run> context)
    {
        var message = context.Message;
        var result = await verifier.VerifyAsync(message, context.CancellationToken);
        LogVerified(message.JobName, message.RunId, result.Outcome, result.Missing, result.Extra, result.Different, result.DurationMs);
        await context.RespondAsync(result);
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Verified job {JobName} (s3 run {RunId}): {Outcome}; objects missing {Missing}, extra {Extra}, different {Different} in {DurationMs} ms")]
    private partial void LogVerified(string jobName, Guid runId, VerifyOutcome outcome, int missing, int extra, int different, long durationMs);
}
