using System.Diagnostics.CodeAnalysis;
using Cronos;

namespace Sync.Jobs;

/// <summary>Job schedules: 5-field cron (minute hour day-of-month month day-of-week) or a Cronos macro such as @hourly, in UTC.</summary>
public static class CronSchedule
{
    private const string CronosPrefix = "The given cron expression has an invalid format. ";

    // A schedule that parses may still never fire (e.g. 30 February); probe from a fixed instant so the answer is stable.
    private static readonly DateTimeOffset Probe = new(2000, 1, 1, 0, 0, 0, TimeSpan.Zero);

    public static bool TryParse(string expr, [NotNullWhen(false)] out string? error)
    {
        error = Check(expr, out _);
        return error is null;
    }

    /// <summary>The first occurrence strictly after <paramref name="from"/>, in UTC; null when the schedule never fires again.</summary>
    public static DateTimeOffset? Next(string expr, DateTimeOffset from)
    {
        var error = Check(expr, out var cron);
        if (error is not null)
        {
            throw new ArgumentException($"Invalid schedule {ValueText.Show(expr ?? "")}: {error}", nameof(expr));
        }

        return cron!.GetNextOccurrence(from, TimeZoneInfo.Utc);
    }

    private static string? Check(string? expr, out CronExpression? cron)
    {
        cron = null;
        var text = expr?.Trim() ?? "";
        if (text.Length == 0)
        {
            return "is empty";
        }

        if (text.StartsWith('@'))
        {
            // Standard cron counts in minutes; Cronos accepts @every_second anyway, which would hammer the source.
            if (text.Equals("@every_second", StringComparison.OrdinalIgnoreCase))
            {
                return "runs every second; schedules go down to one minute";
            }
        }
        else
        {
            var fields = text.Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries).Length;
            if (fields != 5)
            {
                return $"needs 5 fields (minute hour day-of-month month day-of-week), got {fields}";
            }
        }

        try
        {
            cron = CronExpression.Parse(text, CronFormat.Standard);
        }
        catch (CronFormatException e)
        {
            var message = e.Message.StartsWith(CronosPrefix, StringComparison.Ordinal)
                ? e.Message[CronosPrefix.Length..]
                : e.Message;
            return message.TrimEnd('.');
        }

        return cron.GetNextOccurrence(Probe, TimeZoneInfo.Utc) is null ? "never fires (no such date)" : null;
    }
}
