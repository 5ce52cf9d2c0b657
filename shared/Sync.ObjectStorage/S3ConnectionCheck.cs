using Amazon.Runtime;
using Amazon.S3;
using Amazon.S3.Model;
using Microsoft.Extensions.Configuration;

namespace Sync.ObjectStorage;

/// <summary>
/// Checks a named S3 connection for <c>syncctl check</c>: lists one key of its bucket, which needs the
/// endpoint reachable, the credentials accepted, the bucket existing and the list permission
/// (s3:ListBucket) that the files source and the S3 destination's verification use. The answer never
/// holds the access key or the secret key.
/// </summary>
public static class S3ConnectionCheck
{
    /// <summary>What the check found: <paramref name="Ok"/>, and where it looked or what failed there.</summary>
    public sealed record Result(bool Ok, string Answer);

    public static async Task<Result> CheckAsync(S3Connections connections, IConfiguration configuration, string name, CancellationToken cancellationToken)
    {
        var section = configuration.GetSection(S3Connections.SectionName).GetSection(name);
        var where = section["ServiceUrl"] is { Length: > 0 } url ? url : $"AWS {(section["Region"] is { Length: > 0 } region ? region : "us-east-1")}";
        S3Connection connection;
        try
        {
            connection = connections.Get(name);
        }
        catch (Exception e) when (e is S3ConnectionException or AmazonClientException or ArgumentException)
        {
            return new(false, Masked(e.Message, section));
        }

        try
        {
            var listed = await connection.Client.ListObjectsV2Async(new ListObjectsV2Request { BucketName = connection.Bucket, MaxKeys = 1 }, cancellationToken);
            return new(true, $"bucket {connection.Bucket} at {where}: listed, {((listed.S3Objects?.Count ?? 0) > 0 ? "not empty" : "empty")}");
        }
        catch (AmazonS3Exception e)
        {
            var fix = e.ErrorCode switch
            {
                "NoSuchBucket" => $"the bucket does not exist: create it, or fix {S3Connections.SectionName}__{name}__Bucket",
                "AccessDenied" or "AllAccessDisabled" => "the credentials may not list the bucket: grant s3:ListBucket on it",
                "InvalidAccessKeyId" or "SignatureDoesNotMatch" or "InvalidToken" or "ExpiredToken" =>
                    $"the credentials are refused: check {S3Connections.SectionName}__{name}__AccessKey and __SecretKey",
                _ => "see the error code",
            };
            return new(false, Masked($"bucket {connection.Bucket} at {where}: {e.ErrorCode} (HTTP {(int)e.StatusCode}) {e.Message}; {fix}", section));
        }
        catch (Exception e) when (e is AmazonServiceException or AmazonClientException or HttpRequestException or TaskCanceledException or IOException)
        {
            return new(false, Masked($"bucket {connection.Bucket} at {where} does not answer: {e.Message}", section));
        }
    }

    // The SDK does not put the secret in its messages; a server's message might echo the access key.
    private static string Masked(string message, IConfigurationSection section)
    {
        foreach (var secret in new[] { section["SecretKey"], section["AccessKey"] })
        {
            if (secret is { Length: > 0 })
            {
                message = message.Replace(secret, "***", StringComparison.Ordinal);
            }
        }

        return message;
    }
}
