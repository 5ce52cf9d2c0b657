using System.Collections.Concurrent;
using Amazon.Runtime;
using Amazon.S3;
using Microsoft.Extensions.Configuration;
using Sync.Connectors;

namespace Sync.ObjectStorage;

/// <summary>
/// Resolves S3 connection names from the configuration section <c>S3Connections</c>
/// (<c>S3Connections__NAME__Bucket</c>, <c>__ServiceUrl</c>, <c>__Region</c>, <c>__AccessKey</c>,
/// <c>__SecretKey</c>, <c>__ForcePathStyle</c>). The keys stay in the environment, never in a job file or a log.
/// </summary>
public sealed class S3Connections(IConfiguration configuration) : IDisposable
{
    public const string SectionName = "S3Connections";

    private readonly ConcurrentDictionary<string, S3Connection> _connections = new(StringComparer.Ordinal);

    // Every S3 client is made here, so its errors are known to the stage retries before any can occur.
    static S3Connections() => TransientErrors.Recognise(IsTransient);

    /// <summary>An S3 (or other AWS) answer that may pass: server errors, request timeout, throttling.</summary>
    public static bool IsTransient(Exception exception) =>
        exception is AmazonServiceException aws && ((int)aws.StatusCode >= 500 || (int)aws.StatusCode is 408 or 429);

    public bool IsDefined(string name) => !string.IsNullOrWhiteSpace(configuration.GetSection(SectionName).GetSection(name)["Bucket"]);

    public S3Connection Get(string name) => _connections.GetOrAdd(name, Create);

    private S3Connection Create(string name)
    {
        var section = configuration.GetSection(SectionName).GetSection(name);
        var bucket = section["Bucket"];
        if (string.IsNullOrWhiteSpace(bucket))
        {
            throw new S3ConnectionException($"S3 connection \"{name}\" is not configured. Set {SectionName}__{name}__Bucket (and __ServiceUrl, __AccessKey, __SecretKey for an S3-compatible server).");
        }

        var config = new AmazonS3Config
        {
            // The SDK's default trailing checksums (aws-chunked bodies) are not understood by every
            // S3-compatible server (s3rver 3.7 stores the chunk framing); send plain bodies.
            RequestChecksumCalculation = RequestChecksumCalculation.WHEN_REQUIRED,
            ResponseChecksumValidation = ResponseChecksumValidation.WHEN_REQUIRED,
            // The connection's Polly pipeline is the one in-process retry (ConnectorResilience).
            MaxErrorRetry = 0,
        };
        var region = section["Region"] is { Length: > 0 } r ? r : "us-east-1";
        var serviceUrl = section["ServiceUrl"];
        if (string.IsNullOrWhiteSpace(serviceUrl))
        {
            config.RegionEndpoint = Amazon.RegionEndpoint.GetBySystemName(region);
        }
        else
        {
            config.ServiceURL = serviceUrl;
            config.AuthenticationRegion = region;
            config.ForcePathStyle = true;
        }

        if (bool.TryParse(section["ForcePathStyle"], out var pathStyle))
        {
            config.ForcePathStyle = pathStyle;
        }

        var accessKey = section["AccessKey"];
        var client = string.IsNullOrWhiteSpace(accessKey)
            ? new AmazonS3Client(config)
            : new AmazonS3Client(new BasicAWSCredentials(accessKey, section["SecretKey"] ?? string.Empty), config);
        return new S3Connection(name, bucket, client);
    }

    public void Dispose()
    {
        foreach (var connection in _connections.Values)
        {
            connection.Client.Dispose();
        }
    }
}

/// <summary>A named S3 connection: its bucket and a client for it.</summary>
public sealed record S3Connection(string Name, string Bucket, IAmazonS3 Client);

/// <summary>A job names an S3 connection this service's configuration does not define.</summary>
public sealed class S3ConnectionException(string message) : Exception(message);
