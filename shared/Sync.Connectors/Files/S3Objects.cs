using Amazon.S3.Model;
using Microsoft.Extensions.FileSystemGlobbing;
using Sync.Connectors.S3;
using Sync.Contracts;

namespace Sync.Connectors.Files;

/// <summary>The objects of a files source with <c>prefix:</c>: listed under the prefix, read as streams.</summary>
internal static class S3Objects
{
    /// <summary>
    /// The objects after the watermark in (LastModified, key) order, keys whole. S3 reports LastModified
    /// in whole seconds, so an object is taken only once its second has ended plus the settle time: one
    /// written later in the same second could otherwise sort before the watermark.
    /// </summary>
    public static async Task<List<(DateTime Modified, string Name)>> PendingAsync(
        S3Connection connection, string prefix, string pattern, CursorPosition? after, CancellationToken cancellationToken)
    {
        var matcher = new Matcher(StringComparison.Ordinal);
        matcher.AddInclude(pattern.Length == 0 ? "**/*" : pattern);
        var settled = DateTime.UtcNow - FilesSource.SettleTime - TimeSpan.FromSeconds(1);
        var objects = new List<(DateTime Modified, string Name)>();
        var request = new ListObjectsV2Request { BucketName = connection.Bucket, Prefix = prefix };
        do
        {
            var page = await connection.Client.ListObjectsV2Async(request, cancellationToken);
            foreach (var item in page.S3Objects ?? [])
            {
                var relative = item.Key[prefix.Length..].TrimStart('/');
                var modified = (item.LastModified ?? DateTime.MinValue).ToUniversalTime();
                if (relative.Length > 0 && !item.Key.EndsWith('/') && modified <= settled && matcher.Match(relative).HasMatches)
                {
                    objects.Add((modified, item.Key));
                }
            }

            request.ContinuationToken = page.IsTruncated == true ? page.NextContinuationToken : null;
        }
        while (request.ContinuationToken is not null);

        objects.Sort((a, b) => a.Modified != b.Modified ? a.Modified.CompareTo(b.Modified) : string.CompareOrdinal(a.Name, b.Name));
        return FilesSource.After(objects, after);
    }

    public static async Task<Stream> OpenAsync(S3Connection connection, string key, CancellationToken cancellationToken)
    {
        var response = await connection.Client.GetObjectAsync(new GetObjectRequest { BucketName = connection.Bucket, Key = key }, cancellationToken);
        return response.ResponseStream;
    }
}
