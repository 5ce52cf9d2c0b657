using System.Diagnostics;
using System.Net;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Amazon.S3;
using Amazon.S3.Model;
using Parquet;
using Sync.Contracts;
using Sync.ObjectStorage;

namespace Sync.Connectors.S3;

/// <summary>
/// Verifies a run of an S3 destination (issue 15): its manifest against what the run recorded (batches,
/// rows), the manifest against itself (rows add up, checksum over the objects' hashes), and each object
/// against its manifest entry (exists, size, SHA-256 of its bytes, rows counted in it); objects of the
/// run's extraction that the manifest does not list are extra. Keys of the report are object keys.
/// </summary>
public sealed class S3RunVerifier(S3Connections connections)
{
    public async Task<JobVerified> VerifyAsync(VerifyS3Run request, CancellationToken cancellationToken)
    {
        var started = Stopwatch.GetTimestamp();
        var job = request.Job;
        var connection = connections.Get(job.Destination.Connection);
        var manifestKey = BatchObjectKeys.Manifest(job, request.RunId);
        var mismatches = new List<KeyMismatch>();
        var counted = 0L;
        var body = await GetAsync(connection, manifestKey, cancellationToken);
        RunManifest? manifest = null;
        try
        {
            manifest = body is null ? null : JsonSerializer.Deserialize<RunManifest>(body, RunManifest.JsonOptions);
        }
        catch (JsonException)
        {
            mismatches.Add(new KeyMismatch(MismatchKind.Different, [manifestKey], ["json"]));
        }

        if (body is null)
        {
            mismatches.Add(new KeyMismatch(MismatchKind.Missing, [manifestKey]));
        }

        if (manifest is not null)
        {
            var checksum = Convert.ToHexStringLower(SHA256.HashData(Encoding.ASCII.GetBytes(string.Join('\n', manifest.Objects.Select(o => o.Sha256)))));
            List<string> wrong =
            [
                .. manifest.ExtractionId != request.ExtractionId ? ["extraction_id"] : Array.Empty<string>(),
                .. manifest.BatchCount != request.Batches || manifest.Objects.Count != request.Batches ? ["batch_count"] : Array.Empty<string>(),
                .. manifest.Rows != request.Rows || manifest.Objects.Sum(o => o.Rows) != request.Rows ? ["rows"] : Array.Empty<string>(),
                .. checksum != manifest.Checksum ? ["checksum"] : Array.Empty<string>(),
            ];
            if (wrong.Count > 0)
            {
                mismatches.Add(new KeyMismatch(MismatchKind.Different, [manifestKey], wrong));
            }

            foreach (var entry in manifest.Objects)
            {
                var bytes = await GetAsync(connection, entry.Key, cancellationToken);
                if (bytes is null)
                {
                    mismatches.Add(new KeyMismatch(MismatchKind.Missing, [entry.Key]));
                    continue;
                }

                var rows = await RowsAsync(bytes, manifest.Format, cancellationToken);
                counted += rows ?? 0;
                List<string> differs =
                [
                    .. bytes.LongLength != entry.Bytes ? ["bytes"] : Array.Empty<string>(),
                    .. Convert.ToHexStringLower(SHA256.HashData(bytes)) != entry.Sha256 ? ["sha256"] : Array.Empty<string>(),
                    .. rows != entry.Rows ? ["rows"] : Array.Empty<string>(),
                ];
                if (differs.Count > 0)
                {
                    mismatches.Add(new KeyMismatch(MismatchKind.Different, [entry.Key], differs));
                }
            }
        }

        // Objects of the run's accepted extraction only: a dropped extraction's may remain under the run (docs/connectors.md).
        var listed = manifest?.Objects.Select(o => o.Key).ToHashSet(StringComparer.Ordinal) ?? [];
        // The Extractor numbers a run's batches from 1.
        var expected = Enumerable.Range(1, request.Batches).Select(seq => BatchObjectKeys.Batch(job, request.RunId, request.ExtractionId, seq)).ToList();
        foreach (var key in expected.Where(k => manifest is not null && !listed.Contains(k)))
        {
            mismatches.Add(new KeyMismatch(MismatchKind.Missing, [key]));
        }

        foreach (var key in await ListAsync(connection, BatchObjectKeys.ExtractionPrefix(job, request.RunId, request.ExtractionId), cancellationToken))
        {
            if (!listed.Contains(key) && !expected.Contains(key, StringComparer.Ordinal))
            {
                mismatches.Add(new KeyMismatch(MismatchKind.Extra, [key]));
            }
        }

        int Count(string kind) => mismatches.Count(m => m.Kind == kind);
        return new JobVerified(
            request.VerificationId,
            request.JobName,
            mismatches.Count == 0 ? VerifyOutcome.Equal : VerifyOutcome.Different,
            null,
            request.Rows,
            counted,
            Count(MismatchKind.Missing),
            Count(MismatchKind.Extra),
            Count(MismatchKind.Different),
            0,
            [.. mismatches.OrderBy(m => m.Key[0], StringComparer.Ordinal)],
            $"run={request.RunId:D}",
            (long)Stopwatch.GetElapsedTime(started).TotalMilliseconds);
    }

    private static async Task<byte[]?> GetAsync(S3Connection connection, string key, CancellationToken cancellationToken)
    {
        try
        {
            using var response = await connection.Client.GetObjectAsync(connection.Bucket, key, cancellationToken);
            using var memory = new MemoryStream();
            await response.ResponseStream.CopyToAsync(memory, cancellationToken);
            return memory.ToArray();
        }
        catch (AmazonS3Exception missing) when (missing.StatusCode == HttpStatusCode.NotFound)
        {
            return null;
        }
    }

    private static async Task<List<string>> ListAsync(S3Connection connection, string prefix, CancellationToken cancellationToken)
    {
        var keys = new List<string>();
        var request = new ListObjectsV2Request { BucketName = connection.Bucket, Prefix = prefix };
        ListObjectsV2Response response;
        do
        {
            response = await connection.Client.ListObjectsV2Async(request, cancellationToken);
            keys.AddRange((response.S3Objects ?? []).Select(o => o.Key));
            request.ContinuationToken = response.NextContinuationToken;
        }
        while (response.IsTruncated == true);
        return keys;
    }

    // The rows an object holds, counted in it: a Parquet file's row groups, a JSON-lines object's lines.
    // Null when the object cannot be read as its format (its checksum differs then too).
    private static async Task<long?> RowsAsync(byte[] bytes, string format, CancellationToken cancellationToken)
    {
        if (format != "parquet")
        {
            return Encoding.UTF8.GetString(bytes).Split('\n').LongCount(line => line.Length > 0);
        }

        try
        {
            using var stream = new MemoryStream(bytes);
            await using var reader = await ParquetReader.CreateAsync(stream, cancellationToken: cancellationToken);
            var rows = 0L;
            for (var i = 0; i < reader.RowGroupCount; i++)
            {
                using var group = reader.OpenRowGroupReader(i);
                rows += group.RowCount;
            }

            return rows;
        }
        catch (IOException)
        {
            return null;
        }
    }
}

/// <summary>The kinds of an S3 run's object mismatches, as the table verifiers name theirs.</summary>
internal static class MismatchKind
{
    public const string Missing = "missing";
    public const string Extra = "extra";
    public const string Different = "different";
}
