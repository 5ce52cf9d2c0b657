using Amazon.S3.Model;
using Microsoft.Extensions.FileSystemGlobbing;
using Sync.Contracts;
using Sync.ObjectStorage;

namespace Sync.Connectors.Files;

/// <summary>The objects of a files source with <c>prefix:</c>: listed under the prefix, read as streams.</summary>
internal static class S3Objects
{
    /// <summary>
    /// Every object under the prefix whose key after it the pattern matches, keys whole. S3 reports
    /// LastModified in whole seconds, and of a multi-part upload the time it began: an object can
    /// appear with an older time than one already read, which the files watermark takes in its stride.
    /// </summary>
    public static async Task<List<FileRead>> ListAsync(S3Connection connection, string prefix, string pattern, CancellationToken cancellationToken)
    {
        var matcher = new Matcher(StringComparison.Ordinal);
        matcher.AddInclude(pattern.Length == 0 ? "**/*" : pattern);
        var objects = new List<FileRead>();
        var request = new ListObjectsV2Request { BucketName = connection.Bucket, Prefix = prefix };
        do
        {
            var page = await connection.Client.ListObjectsV2Async(request, cancellationToken);
            foreach (var item in page.S3Objects ?? [])
            {
                var relative = item.Key[prefix.Length..].TrimStart('/');
                if (relative.Length > 0 && !item.Key.EndsWith('/') && matcher.Match(relative).HasMatches)
                {
                    objects.Add(new FileRead(item.Key, (item.LastModified ?? DateTime.MinValue).ToUniversalTime(), item.Size ?? 0));
                }
            }

            request.ContinuationToken = page.IsTruncated == true ? page.NextContinuationToken : null;
        }
        while (request.ContinuationToken is not null);

        return objects;
    }

    public static async Task<Stream> OpenAsync(S3Connection connection, string key, CancellationToken cancellationToken)
    {
        var response = await connection.Client.GetObjectAsync(new GetObjectRequest { BucketName = connection.Bucket, Key = key }, cancellationToken);
        return response.ResponseStream;
    }
}
