using System.Globalization;
using System.Text.RegularExpressions;
using Sync.Contracts.Jobs;

namespace Sync.Jobs;

/// <summary>Sizes as job files write them: a number of bytes, or <c>512KiB</c>, <c>8MiB</c> (binary units, so 8MiB is 8,388,608).</summary>
internal static partial class ByteSize
{
    [GeneratedRegex(@"^(?<n>[0-9]{1,10})\s*(?<unit>B|KiB|MiB|GiB|KB|MB|GB|kB|k|K|M|G)?\z", RegexOptions.CultureInvariant)]
    private static partial Regex WithUnit();

    /// <summary>The job's <c>batch_bytes</c>: absent, <see cref="BatchLimits.DefaultBytes"/>; refused outside <see cref="BatchLimits.MinBytes"/>–<see cref="BatchLimits.MaxBytes"/>.</summary>
    public static int ReadBatchBytes(YamlNodeReader job, JobFileErrors errors)
    {
        if (job.Scalar("batch_bytes", "8MiB") is not { } value)
        {
            return BatchLimits.DefaultBytes;
        }

        var range = $"between {Show(BatchLimits.MinBytes)} and {Show(BatchLimits.MaxBytes)}";
        if (WithUnit().Match(value.Value.Trim()) is not { Success: true } match)
        {
            errors.Add(value.Mark, value.Field, $"must be a size {range} (got {value.Shown})", "write bytes or a size in KiB or MiB, e.g. batch_bytes: 8MiB");
            return BatchLimits.DefaultBytes;
        }

        var unit = match.Groups["unit"].Value;
        if (unit is "KB" or "MB" or "GB" or "kB" or "k" or "K" or "M" or "G")
        {
            // 8MB could mean 8,000,000 or 8,388,608: ask for the unit that says which.
            var binary = unit.ToUpperInvariant()[0] switch { 'K' => "KiB", 'M' => "MiB", _ => "GiB" };
            errors.Add(value.Mark, value.Field, $"{value.Shown}: sizes are binary, write the unit as {binary}", $"write batch_bytes: {match.Groups["n"].Value}{binary}");
            return BatchLimits.DefaultBytes;
        }

        var bytes = long.Parse(match.Groups["n"].Value, CultureInfo.InvariantCulture) * unit switch
        {
            "KiB" => 1024L,
            "MiB" => 1024L * 1024,
            "GiB" => 1024L * 1024 * 1024,
            _ => 1L,
        };
        if (bytes is < BatchLimits.MinBytes or > BatchLimits.MaxBytes)
        {
            var why = bytes > BatchLimits.MaxBytes
                ? "a batch travels in one RabbitMQ message (base64-encoded when a dead letter is replayed), under the broker's 128 MiB limit"
                : "smaller batches of ordinary rows would hold only a handful each";
            errors.Add(value.Mark, value.Field, $"must be {range} (got {Show(bytes)}): {why}", $"use {Show(Math.Clamp(bytes, BatchLimits.MinBytes, BatchLimits.MaxBytes))}");
            return BatchLimits.DefaultBytes;
        }

        return (int)bytes;
    }

    /// <summary>A size the way a job file writes it: 64KiB, 8MiB, or bytes.</summary>
    public static string Show(long bytes) => bytes switch
    {
        _ when bytes >= 1024 * 1024 && bytes % (1024 * 1024) == 0 => string.Create(CultureInfo.InvariantCulture, $"{bytes / (1024 * 1024)}MiB"),
        _ when bytes >= 1024 && bytes % 1024 == 0 => string.Create(CultureInfo.InvariantCulture, $"{bytes / 1024}KiB"),
        _ => bytes.ToString(CultureInfo.InvariantCulture),
    };
}
