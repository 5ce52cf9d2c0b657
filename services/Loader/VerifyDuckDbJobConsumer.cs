using MassTransit;
using Microsoft.Extensions.Logging;
using Sync.Connectors.DuckDb;
using Sync.Verification;
using Sync.Contracts;

namespace Sync.Loader;

/// <summary>Compares a job's source with its DuckDB destination and responds with what it found (issue 15).</summary>
internal sealed partial class VerifyDuckDbJobConsumer(DuckDbVerifier verifier, ILogger<VerifyDuckDbJobConsumer> logger) : IConsumer<VerifyDuckDbJob>
{
    public async Task Consume(ConsumeContext<VerifyDuckDbJob> context)
    {
        var message = context.Message;
        var request = new VerifyJob(message.VerificationId, message.JobName, message.Job, message.Watermark);
        JobVerified result;
        try
        {
            result = await verifier.VerifyAsync(request, context.CancellationToken);
        }
        catch (Exception exception) when (exception is Connectors.UnknownConnectionException or DuckDbConnectionException)
        {
            result = new JobVerified(message.VerificationId, message.JobName, VerifyOutcome.Unverifiable, $"cannot verify: {exception.Message}", 0, 0, 0, 0, 0, 0, [], message.Watermark, 0);
        }

        LogVerified(message.JobName, result.Outcome, result.Missing, result.Extra, result.Different, result.Duplicated, result.DurationMs);
        await context.RespondAsync(result);
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Verified job {JobName} (duckdb): {Outcome}; missing {Missing}, extra {Extra}, different {Different}, duplicated {Duplicated} in {DurationMs} ms")]
    private partial void LogVerified(string jobName, VerifyOutcome outcome, int missing, int extra, int different, int duplicated, long durationMs);
}
