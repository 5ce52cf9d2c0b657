using MassTransit;
using Microsoft.Extensions.Logging;
using Sync.Connectors;
using Sync.Connectors.Postgres.Verification;
using Sync.Contracts;

namespace Sync.Extractor;

/// <summary>
/// Compares a job's source with its destination and responds with what it found (issue 15). The
/// Extractor does it because it holds the source's connection (issue 17: the Coordinator opens no
/// source database); it needs the destination's connection too, read-only is enough.
/// </summary>
internal sealed partial class VerifyJobConsumer(PostgresVerifier verifier, ILogger<VerifyJobConsumer> logger) : IConsumer<VerifyJob>
{
    public async Task Consume(ConsumeContext<VerifyJob> context)
    {
        var message = context.Message;
        JobVerified result;
        try
        {
            result = await verifier.VerifyAsync(message, context.CancellationToken);
        }
        catch (UnknownConnectionException exception)
        {
            result = new JobVerified(message.VerificationId, message.JobName, VerifyOutcome.Unverifiable, $"cannot verify: {exception.Message}", 0, 0, 0, 0, 0, 0, [], message.Watermark, 0);
        }

        LogVerified(message.JobName, result.Outcome, result.Missing, result.Extra, result.Different, result.Duplicated, result.DurationMs);
        await context.RespondAsync(result);
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Verified job {JobName}: {Outcome}; missing {Missing}, extra {Extra}, different {Different}, duplicated {Duplicated} in {DurationMs} ms")]
    private partial void LogVerified(string jobName, VerifyOutcome outcome, int missing, int extra, int different, int duplicated, long durationMs);
}
