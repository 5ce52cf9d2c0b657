using Amazon.S3.Model;
using Sync.Connectors.S3;
using Sync.Contracts;
using Sync.Contracts.Jobs;

namespace Sync.Connectors.Tests;

/// <summary>
/// <c>syncctl verify</c> of an S3 destination (issue 15) against a real S3-compatible server (s3rver): a
/// run's manifest and objects, as the destination wrote them, are equal to the run's counts; a deleted,
/// an overwritten and an unlisted object are reported by key, and a manifest that disagrees with the
/// run's counts, or is gone, is reported too.
/// </summary>
public sealed class S3RunVerifyTests : IAsyncLifetime
{
    private static readonly Guid Run = Guid.Parse("0198c3a2-0000-7000-8000-000000000002");
    private static readonly Guid Extraction = Guid.Parse("0198c3a2-0000-7000-8000-0000000000e2");

    private S3Peer _s3 = null!;

    private static string Batch(int seq) => $"exports/orders/run={Run:D}/extraction={Extraction:D}/batch-{seq:D6}.parquet";

    private static string Manifest => $"exports/orders/run={Run:D}/manifest.json";

    public async Task InitializeAsync()
    {
        _s3 = await S3Peer.CreateAsync("s3verify");
        var destination = new S3Destination(_s3.Connections, S3Peer.Resilience());
        for (var seq = 1; seq <= 3; seq++)
        {
            await destination.LoadAsync(new BatchToLoad(Job(), Run, Extraction, seq, SampleBatch.Of(
                [$"{(seq * 2) - 1}", "2026-01-02T03:04:05+00:00", "12.50", "first", "2026-01-02"],
                [$"{seq * 2}", "2026-01-03T00:00:00+00:00", null, "second", null])), CancellationToken.None);
        }

        await destination.WriteManifestAsync(Job(), Run, Extraction, 3, CancellationToken.None);
    }

    public async Task DisposeAsync() => await _s3.DisposeAsync();

    [Fact]
    public async Task A_run_as_written_is_equal_to_its_counts()
    {
        var result = await VerifyAsync(rows: 6);

        Assert.Equal((VerifyOutcome.Equal, 6L, 6L), (result.Outcome, result.SourceRows, result.DestinationRows));
        Assert.Empty(result.Mismatches);
        Assert.Equal($"run={Run:D}", result.Watermark);
    }

    [Fact]
    public async Task A_missing_a_changed_and_an_unlisted_object_are_reported_by_key()
    {
        await _s3.Client.DeleteObjectAsync(_s3.Bucket, Batch(1));
        await _s3.PutAsync(Batch(3), "not the batch");
        await _s3.PutAsync(Batch(4), "written by someone else");

        var result = await VerifyAsync(rows: 6);

        Assert.Equal((VerifyOutcome.Different, 1, 1, 1), (result.Outcome, result.Missing, result.Extra, result.Different));
        Assert.Equal(
            [$"different:{Batch(3)}:bytes,sha256,rows", $"extra:{Batch(4)}:", $"missing:{Batch(1)}:"],
            Shown(result));
        Assert.Equal(2L, result.DestinationRows);
    }

    [Fact]
    public async Task A_manifest_that_disagrees_with_the_run_or_is_gone_is_reported()
    {
        var disagrees = await VerifyAsync(rows: 7);
        await _s3.Client.DeleteObjectAsync(new DeleteObjectRequest { BucketName = _s3.Bucket, Key = Manifest });
        var gone = await VerifyAsync(rows: 6);

        Assert.Equal([$"different:{Manifest}:rows"], Shown(disagrees));
        Assert.Equal(VerifyOutcome.Different, gone.Outcome);
        Assert.Equal([$"missing:{Manifest}:"], Shown(gone));
    }

    private Task<JobVerified> VerifyAsync(long rows) =>
        new S3RunVerifier(_s3.Connections).VerifyAsync(new VerifyS3Run(Guid.NewGuid(), "orders", Job(), Run, Extraction, 3, rows), CancellationToken.None);

    private static List<string> Shown(JobVerified result) =>
        [.. result.Mismatches.Select(m => $"{m.Kind}:{string.Join(',', m.Key)}:{string.Join(',', m.Columns ?? [])}").Order(StringComparer.Ordinal)];

    private static JobSpec Job() => new(
        "orders",
        new SourceSpec(SourceKind.Postgres, "src", "public.orders", "updated_at", ["id"]),
        new TransformSpec([]),
        new DestinationSpec(DestinationKind.S3, "lake", string.Empty, ["id"], S3: new S3DestinationSpec("exports/", "parquet")),
        BatchSize: 1000,
        Schedule: null);
}
