using System.Globalization;
using Sync.Contracts;

namespace Sync.Connectors.Postgres;

/// <summary>
/// Cuts a table's integer primary keys into ranges of <c>range_size</c> key values (issue 19, item 1).
/// The first range is open below and the last open above, so a row whose key lies outside the
/// minimum and maximum seen when planning still falls in a range.
/// </summary>
public static class KeyRangePlan
{
    /// <summary>The most ranges one run is cut into: a larger span gets wider ranges rather than more bookkeeping rows and messages.</summary>
    public const int MaxRanges = 10_000;

    public static IReadOnlyList<KeyRange> Plan(long min, long max, long rangeSize, string? upper)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(rangeSize, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(max, min);
        // The span in decimal: max - min + 1 overflows a long for keys spanning the whole bigint range.
        var span = (decimal)max - min + 1;
        var width = Math.Max(rangeSize, Math.Ceiling(span / MaxRanges));
        var count = (int)Math.Ceiling(span / width);
        var ranges = new List<KeyRange>(count);
        for (var i = 0; i < count; i++)
        {
            var from = i == 0 ? null : Text(min + (width * i));
            var to = i == count - 1 ? null : Text(min + (width * (i + 1)));
            ranges.Add(new KeyRange(i, from, to, upper));
        }

        return ranges;
    }

    private static string Text(decimal key) => key.ToString("0", CultureInfo.InvariantCulture);
}
