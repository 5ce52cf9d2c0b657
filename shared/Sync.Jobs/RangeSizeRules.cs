using System.Globalization;
using Sync.Contracts.Jobs;

namespace Sync.Jobs;

/// <summary>
/// <c>source.range_size</c>: an initial load or full refresh of a PostgreSQL table split into ranges of
/// that many primary-key values, or a cdc job's first copy into chunks of that many rows in key order
/// (issue 19, item 1). Refused where a range cannot be cut by one key.
/// </summary>
internal static class RangeSizeRules
{
    /// <summary>The smallest range: ten of the smallest batches' worth of keys, below which a range's bookkeeping outweighs it.</summary>
    public const long MinRangeSize = 10 * JobFile.MinBatchSize;

    public const long MaxRangeSize = 1_000_000_000_000;

    /// <summary>The value, or 0 when absent; a refusal is reported in <paramref name="errors"/>.</summary>
    public static long Read(YamlNodeReader source, JobFileErrors errors, SourceKind? kind, string? query, IReadOnlyList<string>? primaryKey, SyncMode mode)
    {
        if (source.Scalar("range_size", "1000000") is not { } value)
        {
            return 0;
        }

        if (!long.TryParse(value.Value, NumberStyles.None, CultureInfo.InvariantCulture, out var size) || size is < MinRangeSize or > MaxRangeSize)
        {
            errors.Add(value.Mark, value.Field, $"must be a whole number of key values between {MinRangeSize} and {MaxRangeSize} (got {value.Shown})", "write e.g. range_size: 1000000");
            return 0;
        }

        var refusal = kind != SourceKind.Postgres ? "ranges split a PostgreSQL table by its primary key; this source is not one"
            : query is not null ? "ranges split a table by its primary key; a query has none to split by"
            : primaryKey is { Count: > 1 } ? $"ranges split a table by a single integer primary key; this one has {primaryKey.Count} columns ({string.Join(", ", primaryKey)})"
            : null;
        if (refusal is not null)
        {
            errors.Add(value.Mark, value.Field, refusal, "remove range_size: the table is read in one extraction");
            return 0;
        }

        return size;
    }
}
