using System.Globalization;
using System.Security.Cryptography;
using Amazon.S3.Model;
using Sync.Connectors.Resilience;
using Sync.Contracts;
using Sync.Contracts.Jobs;
using Sync.ObjectStorage;

namespace Sync.Connectors.S3;

/// <summary>
/// Writes each batch as one object under its deterministic key (<see cref="BatchObjectKeys"/>), with its
/// row count and SHA-256 in the object's metadata; the same batch gives the same bytes, so a redelivered
/// batch overwrites its object with identical content. Rows with a value the format cannot hold are
/// reported as rejected and left out of the object.
/// </summary>
public sealed class S3Destination(S3Connections connections, ConnectorResilience resilience) : IDestination
{
    internal const string RowsMetadata = "x-amz-meta-sync-rows";
    internal const string Sha256Metadata = "x-amz-meta-sync-sha256";

    public async Task<LoadResult> LoadAsync(BatchToLoad load, CancellationToken cancellationToken)
    {
        var (job, runId, extractionId, batchSeq, batch, _, _) = load;
        var spec = BatchObjectKeys.Spec(job);
        var rows = TypedRows.Decode(batch);
        var body = spec.Format == "parquet"
            ? await ParquetBatchWriter.WriteAsync(rows, cancellationToken)
            : JsonLinesBatchWriter.Write(rows);
        var key = BatchObjectKeys.Batch(job, runId, extractionId, batchSeq);
        var connection = connections.Get(job.Destination.Connection);
        await resilience.ExecuteAsync(
            job.Destination.Connection,
            async token => await PutAsync(connection, key, body, spec.Format == "parquet" ? "application/vnd.apache.parquet" : "application/x-ndjson", rows.Rows.Count, token),
            cancellationToken);
        return new LoadResult(rows.Rows.Count, rows.Rows.Count, 0, 0, Replayed: false, rows.Rejected);
    }

    /// <summary>
    /// Writes the run's manifest: its objects in batch order with rows, bytes and SHA-256, the total rows,
    /// and a checksum over the objects' hashes. Every object must exist: a completed run loaded every batch.
    /// </summary>
    public async Task<RunManifest> WriteManifestAsync(JobSpec job, Guid runId, Guid extractionId, int batchCount, CancellationToken cancellationToken)
    {
        var connection = connections.Get(job.Destination.Connection);
        var objects = new List<RunManifestObject>(batchCount);
        // The Extractor numbers a run's batches from 1.
        for (var seq = 1; seq <= batchCount; seq++)
        {
            var key = BatchObjectKeys.Batch(job, runId, extractionId, seq);
            var head = await resilience.ExecuteAsync(
                job.Destination.Connection,
                async token => await connection.Client.GetObjectMetadataAsync(new GetObjectMetadataRequest { BucketName = connection.Bucket, Key = key }, token),
                cancellationToken);
            objects.Add(new RunManifestObject(
                key,
                seq,
                long.Parse(head.Metadata[RowsMetadata] ?? "0", CultureInfo.InvariantCulture),
                head.ContentLength,
                head.Metadata[Sha256Metadata] ?? string.Empty));
        }

        var checksum = Convert.ToHexStringLower(SHA256.HashData(System.Text.Encoding.ASCII.GetBytes(string.Join('\n', objects.Select(o => o.Sha256)))));
        var manifest = new RunManifest(job.Name, runId, extractionId, BatchObjectKeys.Spec(job).Format, batchCount, objects.Sum(o => o.Rows), objects, checksum);
        var body = System.Text.Json.JsonSerializer.SerializeToUtf8Bytes(manifest, RunManifest.JsonOptions);
        await resilience.ExecuteAsync(
            job.Destination.Connection,
            async token => await PutAsync(connection, BatchObjectKeys.Manifest(job, runId), body, "application/json", manifest.Rows, token),
            cancellationToken);
        return manifest;
    }

    private static async Task<bool> PutAsync(S3Connection connection, string key, byte[] body, string contentType, long rows, CancellationToken cancellationToken)
    {
        using var content = new MemoryStream(body, writable: false);
        var request = new PutObjectRequest
        {
            BucketName = connection.Bucket,
            Key = key,
            InputStream = content,
            ContentType = contentType,
            UseChunkEncoding = false,
            AutoCloseStream = false,
        };
        request.Metadata.Add(RowsMetadata, rows.ToString(CultureInfo.InvariantCulture));
        request.Metadata.Add(Sha256Metadata, Convert.ToHexStringLower(SHA256.HashData(body)));
        await connection.Client.PutObjectAsync(request, cancellationToken);
        return true;
    }
}
