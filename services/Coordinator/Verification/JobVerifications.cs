using System.Text.Json;
using MassTransit;
using Microsoft.EntityFrameworkCore;
using Sync.Contracts;
using Sync.Contracts.Jobs;
using Sync.Coordinator.Data;
using Sync.Coordinator.DeadLetters;
using Sync.Coordinator.Runs;

namespace Sync.Coordinator.Verification;

/// <summary>
/// Verifies a job (issue 15): asks the Extractor, which holds the connections (the Loader for a DuckDB
/// file, which it holds), to compare source and destination up to the committed watermark, keeps the
/// result, and for a repair starts a run of the differing keys. The Coordinator itself opens neither
/// database (issue 17).
/// </summary>
internal sealed class JobVerifications(CoordinatorDbContext dbContext, IBus bus, IPublishEndpoint publish)
{
    /// <summary>Keys kept with a result in the control database and shown by the API.</summary>
    public const int SampleLimit = 100;

    /// <summary>How long the Extractor may take: it hashes every row of both sides.</summary>
    public static readonly TimeSpan Timeout = TimeSpan.FromMinutes(30);

    public async Task<VerificationView> VerifyAsync(JobSpec job, bool repair, CancellationToken cancellationToken)
    {
        var watermark = job.Mode == SyncMode.Incremental ? await WatermarkAsync(job.Name, cancellationToken) : null;
        var request = new VerifyJob(NewId.NextGuid(), job.Name, job, watermark);
        var result = await RequestAsync(request, cancellationToken);
        var record = new SyncVerification
        {
            Id = request.VerificationId,
            JobName = job.Name,
            VerifiedAt = DateTimeOffset.UtcNow,
            Outcome = result.Outcome.ToString(),
            Reason = result.Reason,
            Watermark = result.Watermark,
            SourceRows = result.SourceRows,
            DestinationRows = result.DestinationRows,
            Missing = result.Missing,
            Extra = result.Extra,
            Different = result.Different,
            Duplicated = result.Duplicated,
            DurationMs = result.DurationMs,
            Mismatches = JsonSerializer.Serialize(result.Mismatches.Take(SampleLimit), JsonSerializerOptions.Web),
        };
        dbContext.Verifications.Add(record);
        string? repairNote = null;
        if (repair && result.Outcome == VerifyOutcome.Different)
        {
            var (keys, note) = RepairPlan.KeysOf(job, result);
            repairNote = note;
            if (keys.Count > 0)
            {
                record.RepairRunId = NewId.NextGuid();
                await publish.PublishDurablyAsync(dbContext, new RepairKeys(record.RepairRunId.Value, job.Name, keys, DateTimeOffset.UtcNow), cancellationToken);
            }
        }

        await dbContext.SaveChangesAsync(cancellationToken);
        VerificationTelemetry.Verified(job.Name, result);
        return VerificationView.Of(record) with { RepairNote = repairNote };
    }

    public async Task<VerificationView?> LatestAsync(string jobName, CancellationToken cancellationToken) =>
        await dbContext.Verifications.AsNoTracking()
            .Where(v => v.JobName == jobName)
            .OrderByDescending(v => v.VerifiedAt)
            .FirstOrDefaultAsync(cancellationToken) is { } record
            ? VerificationView.Of(record)
            : null;

    private async Task<JobVerified> RequestAsync(VerifyJob request, CancellationToken cancellationToken)
    {
        // The bus's own client, not the scope's: a request through the outbox would leave only after a commit.
        // A DuckDB file is read by the Loader that holds it, S3 objects by the Loader that has their
        // connection, every other destination by the Extractor.
        var service = request.Job.Destination.Kind is DestinationKind.DuckDb or DestinationKind.S3 ? "Loader" : "Extractor";
        try
        {
            return request.Job.Destination.Kind switch
            {
                DestinationKind.DuckDb => await AskAsync(new VerifyDuckDbJob(request.VerificationId, request.JobName, request.Job, request.Watermark), cancellationToken),
                DestinationKind.S3 => await S3RunAsync(request, cancellationToken) is { } run
                    ? await AskAsync(run, cancellationToken)
                    : Unverifiable(request, "cannot verify: the job has no completed run with a manifest yet; run it first"),
                _ => await AskAsync(request, cancellationToken),
            };
        }
        catch (RequestTimeoutException)
        {
            return Unverifiable(request, $"cannot verify: the {service} did not answer within {Timeout.TotalMinutes} minutes");
        }
        catch (RequestFaultException fault)
        {
            return Unverifiable(request, $"cannot verify: {fault.Fault?.Exceptions.FirstOrDefault()?.Message ?? fault.Message}");
        }
    }

    // An S3 destination is verified by its latest completed run that wrote a manifest (a replay of dead
    // letters writes none), against what that run recorded: its extraction, batches and rows.
    private async Task<VerifyS3Run?> S3RunAsync(VerifyJob request, CancellationToken cancellationToken) =>
        await dbContext.Runs.AsNoTracking()
            .Where(r => r.JobName == request.JobName && r.CurrentState == RunStates.Completed && r.Trigger != DeadLetterStore.ReplayTrigger
                && r.ExtractionId != null && r.ExpectedBatches != null)
            .OrderByDescending(r => r.FinishedAt)
            .FirstOrDefaultAsync(cancellationToken) is { } run
            ? new VerifyS3Run(request.VerificationId, request.JobName, request.Job, run.CorrelationId, run.ExtractionId!.Value, run.ExpectedBatches!.Value, run.Inserted)
            : null;

    private async Task<JobVerified> AskAsync<T>(T request, CancellationToken cancellationToken)
        where T : class
    {
        var client = bus.CreateRequestClient<T>(RequestTimeout.After(m: (int)Timeout.TotalMinutes));
        return (await client.GetResponse<JobVerified>(request, cancellationToken)).Message;
    }

    private static JobVerified Unverifiable(VerifyJob request, string reason) =>
        new(request.VerificationId, request.JobName, VerifyOutcome.Unverifiable, reason, 0, 0, 0, 0, 0, 0, [], request.Watermark, 0);

    private async Task<string?> WatermarkAsync(string jobName, CancellationToken cancellationToken) =>
        await dbContext.Watermarks.AsNoTracking().FirstOrDefaultAsync(w => w.Key == jobName, cancellationToken) is { } watermark
            ? JsonSerializer.Deserialize<CursorPosition>(watermark.Cursor)?.Values.FirstOrDefault()
            : null;
}

/// <summary>A verification as the API shows it; <see cref="ExitCode"/> is the CLI's.</summary>
internal sealed record VerificationView(
    Guid Id,
    string JobName,
    DateTimeOffset VerifiedAt,
    string Outcome,
    int ExitCode,
    string? Reason,
    string? Watermark,
    long SourceRows,
    long DestinationRows,
    int Missing,
    int Extra,
    int Different,
    int Duplicated,
    long DurationMs,
    IReadOnlyList<KeyMismatch> Mismatches,
    Guid? RepairRunId)
{
    /// <summary>Why some or all differing keys were not sent to the repair run.</summary>
    public string? RepairNote { get; init; }

    public static VerificationView Of(SyncVerification record) => new(
        record.Id,
        record.JobName,
        record.VerifiedAt,
        record.Outcome,
        (int)Enum.Parse<VerifyOutcome>(record.Outcome),
        record.Reason,
        record.Watermark,
        record.SourceRows,
        record.DestinationRows,
        record.Missing,
        record.Extra,
        record.Different,
        record.Duplicated,
        record.DurationMs,
        JsonSerializer.Deserialize<List<KeyMismatch>>(record.Mismatches, JsonSerializerOptions.Web) ?? [],
        record.RepairRunId);
}
