using Amazon.Runtime;
using Amazon.S3;
using Amazon.S3.Model;

namespace Sync.EndToEnd.Tests.Infrastructure;

/// <summary>
/// The orders-s3 job of the shared operations deployment: orders_s3 in the source database, exported as
/// Parquet to a bucket of its own on the s3rver that scripts/infra.sh starts (SYNC_S3_ENDPOINT).
/// </summary>
public static class S3Export
{
    public const string Job = "orders-s3";
    public const string Table = "orders_s3";
    public const string Prefix = "e2e/";

    public static string Bucket(SyncDeployment deployment) => $"sync-{deployment.Id.Replace('_', '-')}";

    public static async Task PrepareAsync(SyncDeployment deployment)
    {
        await OrdersTable.CreateAsync(deployment.Source, Table);
        deployment.WriteJob("orders_s3.yml", $"""
            name: {Job}
            batch_size: 100
            source:
              type: postgres
              connection: source
              table: public.{Table}
              cursor: updated_at
              primary_key: [id]
            destination:
              type: s3
              connection: lake
              prefix: {Prefix}
              format: parquet
            """);
        deployment.SetEnvironment("S3Connections__lake__ServiceUrl", Endpoint);
        deployment.SetEnvironment("S3Connections__lake__Bucket", Bucket(deployment));
        deployment.SetEnvironment("S3Connections__lake__AccessKey", AccessKey);
        deployment.SetEnvironment("S3Connections__lake__SecretKey", SecretKey);
        using var client = Client();
        await client.PutBucketAsync(new PutBucketRequest { BucketName = Bucket(deployment) });
    }

    public static AmazonS3Client Client() => new(
        new BasicAWSCredentials(AccessKey, SecretKey),
        new AmazonS3Config
        {
            ServiceURL = Endpoint,
            ForcePathStyle = true,
            AuthenticationRegion = "us-east-1",
            RequestChecksumCalculation = RequestChecksumCalculation.WHEN_REQUIRED,
            ResponseChecksumValidation = ResponseChecksumValidation.WHEN_REQUIRED,
        });

    /// <summary>
    /// The object's bytes, or null while it does not exist or is being written: s3rver (unlike S3)
    /// writes an object in place, so a GET during its PUT reads fewer bytes than the stored checksum
    /// covers, and the SDK throws on the mismatch.
    /// </summary>
    public static async Task<byte[]?> GetAsync(AmazonS3Client client, string bucket, string key)
    {
        try
        {
            using var response = await client.GetObjectAsync(bucket, key);
            using var memory = new MemoryStream();
            await response.ResponseStream.CopyToAsync(memory);
            return memory.ToArray();
        }
        catch (AmazonS3Exception exception) when (exception.StatusCode == System.Net.HttpStatusCode.NotFound)
        {
            return null;
        }
        catch (AmazonClientException exception) when (exception.Message.Contains("hash", StringComparison.OrdinalIgnoreCase))
        {
            return null;
        }
    }

    public static string Endpoint => Environment.GetEnvironmentVariable("SYNC_S3_ENDPOINT")
        ?? throw new InvalidOperationException("SYNC_S3_ENDPOINT is not set: run `eval \"$(scripts/infra.sh env)\"` after `./run infra up`.");

    public static string AccessKey => Environment.GetEnvironmentVariable("SYNC_S3_ACCESS_KEY") ?? "S3RVER";

    public static string SecretKey => Environment.GetEnvironmentVariable("SYNC_S3_SECRET_KEY") ?? "S3RVER";
}
