using System.Globalization;
using System.Text.RegularExpressions;

namespace Sync.Jobs;

/// <summary>Durations as job files write them: <c>90s</c>, <c>15m</c>, <c>2h</c>, <c>1d</c>, or TimeSpan text like <c>00:15:00</c>.</summary>
public static partial class Duration
{
    [GeneratedRegex(@"^(?<n>[0-9]{1,9})\s*(?<unit>ms|s|m|h|d)\z", RegexOptions.CultureInvariant)]
    private static partial Regex Short();

    public static bool TryParse(string text, out TimeSpan duration)
    {
        var match = Short().Match(text.Trim());
        if (match.Success)
        {
            var n = long.Parse(match.Groups["n"].Value, CultureInfo.InvariantCulture);
            duration = match.Groups["unit"].Value switch
            {
                "ms" => TimeSpan.FromMilliseconds(n),
                "s" => TimeSpan.FromSeconds(n),
                "m" => TimeSpan.FromMinutes(n),
                "h" => TimeSpan.FromHours(n),
                _ => TimeSpan.FromDays(n),
            };
            return true;
        }

        return TimeSpan.TryParseExact(text.Trim(), @"hh\:mm\:ss", CultureInfo.InvariantCulture, out duration)
            || TimeSpan.TryParseExact(text.Trim(), @"d\.hh\:mm\:ss", CultureInfo.InvariantCulture, out duration);
    }
}
