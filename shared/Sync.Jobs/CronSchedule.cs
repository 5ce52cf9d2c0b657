using System.Diagnostics.CodeAnalysis;
using Cronos;

namespace Sync.Jobs;

/// <summary>
/// A job's schedule: 5-field cron (minute hour day-of-month month day-of-week) or a macro such as
/// @hourly, in UTC, in Cronos's dialect. Job-file validation and the Coordinator's firing both go
/// through this type, so a schedule fires exactly when validation said it would (issue 13: Coravel's
/// own cron parser refused @hourly, MON-FRI, 0/15 and two spaces that this one accepted).
/// </summary>
public sealed class CronSchedule
{
    private const string CronosPrefix = "The given cron expression has an invalid format. ";

    // A schedule that parses may still never fire (e.g. 30 February); probe from a fixed instant so the answer is stable.
    private static readonly DateTimeOffset Probe = new(2000, 1, 1, 0, 0, 0, TimeSpan.Zero);

    private static readonly string[] Macros = ["@yearly", "@annually", "@monthly", "@weekly", "@daily", "@midnight", "@hourly", "@every_minute"];

    private readonly CronExpression _cron;

    private CronSchedule(string expression, CronExpression cron)
    {
        Expression = expression;
        _cron = cron;
    }

    /// <summary>The expression as written, without surrounding whitespace.</summary>
    public string Expression { get; }

    public static bool TryParse(string expr, [NotNullWhen(false)] out string? error) => TryParse(expr, out _, out error);

    public static bool TryParse(string expr, [NotNullWhen(true)] out CronSchedule? schedule, [NotNullWhen(false)] out string? error)
    {
        error = Check(expr, out var cron);
        schedule = error is null ? new CronSchedule(expr.Trim(), cron!) : null;
        return schedule is not null;
    }

    /// <summary>A schedule validation accepted; throws <see cref="ArgumentException"/> with the reason for any other.</summary>
    public static CronSchedule Parse(string expr) =>
        TryParse(expr, out var schedule, out var error)
            ? schedule
            : throw new ArgumentException($"Invalid schedule {ValueText.Show(expr ?? "")}: {error}", nameof(expr));

    /// <summary>The first occurrence strictly after <paramref name="from"/>, in UTC; null when the schedule never fires again.</summary>
    public DateTimeOffset? Next(DateTimeOffset from) => _cron.GetNextOccurrence(from, TimeZoneInfo.Utc);

    public override string ToString() => Expression;

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

            // Cronos would say "Macro: Unexpected character 'f' on position 1" of @fortnightly.
            if (!Macros.Contains(text, StringComparer.OrdinalIgnoreCase))
            {
                return $"is not a known macro; the macros are {string.Join(", ", Macros)}";
            }
        }
        else
        {
            var fields = text.Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries);
            if (fields.Length != 5)
            {
                return $"needs 5 fields (minute hour day-of-month month day-of-week), got {fields.Length}";
            }

            if (DayFields(text) is not null)
            {
                return $"restricts both day-of-month ({fields[2]}) and day-of-week ({fields[4]}), which cron implementations combine differently";
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

    /// <summary>
    /// The five fields of an expression that restricts both day-of-month and day-of-week, else null.
    /// Classic (Vixie) cron fires on a day that matches either when neither field starts with *; Cronos
    /// only on a day that matches both ("0 0 1 * MON" fires on a Monday the 1st, measured). Such an
    /// expression is refused rather than fired on days its author did not expect.
    /// </summary>
    internal static (string Minute, string Hour, string DayOfMonth, string Month, string DayOfWeek)? DayFields(string expr)
    {
        var fields = expr.Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries);
        return fields.Length == 5 && Restricts(fields[2]) && Restricts(fields[4])
            ? (fields[0], fields[1], fields[2], fields[3], fields[4])
            : null;

        static bool Restricts(string day) => !day.StartsWith('*') && day != "?";
    }
}
