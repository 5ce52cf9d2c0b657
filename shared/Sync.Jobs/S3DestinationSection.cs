using System.Text.RegularExpressions;
using Sync.Contracts.Jobs;

namespace Sync.Jobs;

/// <summary>
/// The <c>destination:</c> keys of <c>type: s3</c>: a key prefix in the connection's bucket and the object
/// format. It has no table, key or conflict strategy: every batch is an object of its own.
/// </summary>
internal static partial class S3DestinationSection
{
    public static readonly string[] Keys = ["prefix", "format"];

    private static readonly IReadOnlyDictionary<string, string> Formats = new Dictionary<string, string>(StringComparer.Ordinal)
    {
        ["parquet"] = "parquet",
        ["jsonl"] = "jsonl",
    };

    // Segments of letters, digits and - _ . = separated by single slashes: safe in every S3 implementation's keys.
    [GeneratedRegex(@"^(?:[A-Za-z0-9_=.-]+/)*[A-Za-z0-9_=.-]*\z", RegexOptions.CultureInvariant)]
    private static partial Regex PrefixPattern();

    public static DestinationSpec? Read(YamlNodeReader destination, JobFileErrors errors, string? connection, IReadOnlyList<string>? defaultKey)
    {
        foreach (var key in new[] { "table", "key", "conflict" }.Where(destination.Has))
        {
            errors.Add(destination.KeyMark(key), destination.FieldOf(key), "does not apply to an s3 destination",
                "remove it: an s3 destination writes one object per batch under prefix:, and a manifest per run");
        }

        var prefix = destination.Scalar("prefix", "exports/orders", required: true) is { } p ? Prefix(p, errors) : null;
        var format = "parquet";
        var formatValid = destination.Scalar("format", "parquet") is not { } f || FieldRules.Choice(f, errors, Formats, out format);
        return connection is null || prefix is null || !formatValid
            ? null
            : new DestinationSpec(DestinationKind.S3, connection, string.Empty, defaultKey ?? [], S3: new S3DestinationSpec(prefix, format));
    }

    /// <summary>Reports s3-only keys under a destination of another kind.</summary>
    public static void RefuseKeys(YamlNodeReader destination, JobFileErrors errors, string kind)
    {
        foreach (var key in Keys.Where(destination.Has))
        {
            errors.Add(destination.KeyMark(key), destination.FieldOf(key), $"does not apply to a {kind} destination",
                $"remove it, or set type: s3 to write objects ({key} belongs to s3 destinations)");
        }
    }

    /// <summary>A key prefix: relative (no leading /), no empty or .. segments; the trailing / is optional.</summary>
    public static string? Prefix(YamlScalar prefix, JobFileErrors errors)
    {
        var value = prefix.Value;
        if (PrefixPattern().IsMatch(value) && !value.Split('/').Contains("..") && !value.Split('/').Contains("."))
        {
            return value;
        }

        errors.Add(prefix.Mark, prefix.Field, $"must be an S3 key prefix like exports/orders/ (got {prefix.Shown})",
            "use letters, digits, - _ . = and single / between parts, with no leading / and no . or .. parts; the bucket comes from S3Connections__<connection>__Bucket");
        return null;
    }
}
