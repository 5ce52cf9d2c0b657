using System.Globalization;
using System.Text.RegularExpressions;

namespace Sync.Jobs;

/// <summary>Durations as job files write them: <c>500ms</c>, <c>90s</c>, <c>15m</c>, <c>2h</c>, <c>1d</c>, or TimeSpan text like <c>00:15:00</c>.</summary>
public static partial class Duration
{
    [GeneratedRegex(@"^(?<n>[0-9]{1,9})\s*(?<unit>ms|s|m|h|d)\z", RegexOptions.CultureInvariant)]
    private static partial Regex WithUnit();

    public static bool TryParse(string text, out TimeSpan duration)
    {
        text = text.Trim();
        if (WithUnit().Match(text) is { Success: true } match)
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

        // Only with a colon: TimeSpan.Parse("30") would be 30 days.
        duration = default;
        return text.Contains(':', StringComparison.Ordinal) && TimeSpan.TryParse(text, CultureInfo.InvariantCulture, out duration);
    }

    /// <summary>A fix for text that is not a duration: <c>30 seconds</c> → <c>write 30s</c>.</summary>
    public static string Suggest(string text)
    {
        text = text.Trim();
        var digits = new string([.. text.TakeWhile(char.IsAsciiDigit)]);
        var unit = text[digits.Length..].Trim().ToLowerInvariant();
        var known = unit switch
        {
            "sec" or "secs" or "second" or "seconds" => "s",
            "min" or "mins" or "minute" or "minutes" => "m",
            "hr" or "hrs" or "hour" or "hours" => "h",
            "day" or "days" => "d",
            "" => "s",
            _ => null,
        };
        return digits.Length > 0 && known is not null
            ? $"write {digits}{known}"
            : "write a number with a unit, ms, s, m, h or d (e.g. 30s), or a TimeSpan such as 00:00:30";
    }
}
