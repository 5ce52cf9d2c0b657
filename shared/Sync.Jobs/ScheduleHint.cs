using System.Text.RegularExpressions;

namespace Sync.Jobs;

/// <summary>Turns a rejected schedule into the cron expression the user probably meant.</summary>
internal static partial class ScheduleHint
{
    private const string General = "write 5 fields, minute hour day-of-month month day-of-week, e.g. \"*/15 * * * *\", or a macro such as @hourly or @daily";

    [GeneratedRegex(@"^\s*every\s+(\d+)?\s*(second|minute|hour|day)s?\s*$", RegexOptions.IgnoreCase | RegexOptions.CultureInvariant)]
    private static partial Regex Every();

    public static string For(string schedule)
    {
        if (schedule.Trim().Equals("@every_second", StringComparison.OrdinalIgnoreCase))
        {
            return "use @every_minute or \"* * * * *\"";
        }

        if (CronSchedule.DayFields(schedule) is (var minute, var hour, var dayOfMonth, var month, var dayOfWeek))
        {
            return $"keep one day field: \"{minute} {hour} {dayOfMonth} {month} *\" (days of the month) or \"{minute} {hour} * {month} {dayOfWeek}\" (days of the week); for one weekday of the month write e.g. MON#1 (the first Monday) or 5L (the last Friday) as day-of-week";
        }

        var match = Every().Match(schedule);
        if (!match.Success)
        {
            return General;
        }

        var n = match.Groups[1].Success ? match.Groups[1].Value : "1";
        var step = n == "1" ? "*" : $"*/{n}";
        return match.Groups[2].Value.ToLowerInvariant() switch
        {
            "second" => "schedules go down to one minute; use \"* * * * *\"",
            "minute" => $"use \"{step} * * * *\"",
            "hour" => $"use \"0 {step} * * *\"",
            _ => $"use \"0 0 {step} * *\"",
        };
    }
}
