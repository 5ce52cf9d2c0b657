using Amazon.S3;
using Amazon.S3.Model;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using Sync.Connectors.Resilience;
using Sync.ObjectStorage;

namespace Sync.Connectors.Tests;

/// <summary>The s3rver that scripts/infra.sh starts (SYNC_S3_ENDPOINT), with a fresh bucket per test class.</summary>
internal sealed class S3Peer : IAsyncDisposable
{
    private S3Peer(string bucket, IConfiguration configuration)
    {
        Bucket = bucket;
        Configuration = configuration;
        Connections = new S3Connections(configuration);
    }

    /// <summary>Holds <c>S3Connections:lake:*</c> for this peer's bucket.</summary>
    public IConfiguration Configuration { get; }

    public string Bucket { get; }

    public S3Connections Connections { get; }

    public IAmazonS3 Client => Connections.Get("lake").Client;

    public static async Task<S3Peer> CreateAsync(string name)
    {
        var endpoint = Environment.GetEnvironmentVariable("SYNC_S3_ENDPOINT")
            ?? throw new InvalidOperationException("SYNC_S3_ENDPOINT is not set: run `eval \"$(scripts/infra.sh env)\"` after `./run infra up`.");
        var bucket = $"{name}-{Guid.NewGuid():N}";
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["S3Connections:lake:ServiceUrl"] = endpoint,
            ["S3Connections:lake:Bucket"] = bucket,
            ["S3Connections:lake:AccessKey"] = Environment.GetEnvironmentVariable("SYNC_S3_ACCESS_KEY") ?? "S3RVER",
            ["S3Connections:lake:SecretKey"] = Environment.GetEnvironmentVariable("SYNC_S3_SECRET_KEY") ?? "S3RVER",
            ["S3Connections:lake:Region"] = "us-east-1",
        }).Build();
        var peer = new S3Peer(bucket, configuration);
        await peer.Client.PutBucketAsync(new PutBucketRequest { BucketName = bucket });
        return peer;
    }

    public static ConnectorResilience Resilience() =>
        new(Options.Create(new ConnectorResilienceOptions { RetryDelay = TimeSpan.FromMilliseconds(1), RetryMaxDelay = TimeSpan.FromMilliseconds(5) }), NullLogger<ConnectorResilience>.Instance);

    public async Task<List<S3Object>> ListAsync(string prefix = "")
    {
        var response = await Client.ListObjectsV2Async(new ListObjectsV2Request { BucketName = Bucket, Prefix = prefix });
        return response.S3Objects ?? [];
    }

    public async Task<byte[]> GetAsync(string key)
    {
        using var response = await Client.GetObjectAsync(Bucket, key);
        using var memory = new MemoryStream();
        await response.ResponseStream.CopyToAsync(memory);
        return memory.ToArray();
    }

    public async Task PutAsync(string key, string body)
    {
        await Client.PutObjectAsync(new PutObjectRequest { BucketName = Bucket, Key = key, ContentBody = body, UseChunkEncoding = false });
    }

    public ValueTask DisposeAsync()
    {
        Connections.Dispose();
        return ValueTask.CompletedTask;
    }
}
