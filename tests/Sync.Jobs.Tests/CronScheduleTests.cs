namespace Sync.Jobs.Tests;

public sealed class CronScheduleTests
{
    private static readonly DateTimeOffset From = new(2025, 3, 10, 10, 7, 30, TimeSpan.Zero);

    [Theory]
    [InlineData("*/15 * * * *")]
    [InlineData("0 3 * * 1-5")]
    [InlineData("@hourly")]
    [InlineData("@daily")]
    [InlineData("0 0 29 2 *")]
    public void Five_field_cron_and_macros_parse(string expression)
    {
        Assert.True(CronSchedule.TryParse(expression, out var error));
        Assert.Null(error);
    }

    [Theory]
    [InlineData("61 * * * *", "Minutes: Value must be a number between 0 and 59 (all inclusive)")]
    [InlineData("* * *", "needs 5 fields (minute hour day-of-month month day-of-week), got 3")]
    [InlineData("0 * * * * *", "needs 5 fields (minute hour day-of-month month day-of-week), got 6")]
    [InlineData("0 0 30 2 *", "never fires (no such date)")]
    [InlineData("", "is empty")]
    [InlineData("@every_second", "runs every second; schedules go down to one minute")]
    [InlineData("0 0 1 * MON", "restricts both day-of-month (1) and day-of-week (MON), which cron implementations combine differently")]
    [InlineData("0 0 1-7 * 1", "restricts both day-of-month (1-7) and day-of-week (1), which cron implementations combine differently")]
    [InlineData("0 0 L * 5", "restricts both day-of-month (L) and day-of-week (5), which cron implementations combine differently")]
    [InlineData("@sometimes", "is not a known macro; the macros are @yearly, @annually, @monthly, @weekly, @daily, @midnight, @hourly, @every_minute")]
    public void Impossible_schedules_are_refused_with_the_reason(string expression, string? reason)
    {
        Assert.False(CronSchedule.TryParse(expression, out var error));
        Assert.False(string.IsNullOrWhiteSpace(error));
        if (reason is not null)
        {
            Assert.Equal(reason, error);
        }
    }

    [Theory]
    [InlineData("*/15 * * * *", "2025-03-10T10:15:00Z")]
    [InlineData("@hourly", "2025-03-10T11:00:00Z")]
    [InlineData("@daily", "2025-03-11T00:00:00Z")]
    [InlineData("0 3 * * 1-5", "2025-03-11T03:00:00Z")]
    public void Next_is_the_first_occurrence_after_the_instant_in_utc(string expression, string expected) =>
        Assert.Equal(DateTimeOffset.Parse(expected, System.Globalization.CultureInfo.InvariantCulture), CronSchedule.Parse(expression).Next(From));

    [Fact]
    public void Next_is_strictly_after_an_instant_that_is_itself_an_occurrence()
    {
        var onTheHour = new DateTimeOffset(2025, 3, 10, 11, 0, 0, TimeSpan.Zero);

        Assert.Equal(onTheHour.AddHours(1), CronSchedule.Parse("@hourly").Next(onTheHour));
    }

    [Fact]
    public void Next_honours_an_instant_given_in_another_offset()
    {
        var from = new DateTimeOffset(2025, 3, 10, 12, 7, 0, TimeSpan.FromHours(2));

        Assert.Equal(new DateTimeOffset(2025, 3, 10, 10, 15, 0, TimeSpan.Zero), CronSchedule.Parse("*/15 * * * *").Next(from));
    }

    [Fact]
    public void Parse_refuses_an_invalid_expression_with_the_reason()
    {
        var exception = Assert.Throws<ArgumentException>(() => CronSchedule.Parse("61 * * * *"));
        Assert.StartsWith("Invalid schedule \"61 * * * *\": Minutes:", exception.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("0 0 * * MON", "0 0 * * MON")]
    [InlineData("0 0 */2 * MON", "0 0 */2 * MON")]
    [InlineData("0 0 ? * MON", "0 0 ? * MON")]
    [InlineData("  0  0 1 * *  ", "0  0 1 * *")]
    public void One_restricted_day_field_is_accepted_and_kept_as_written(string expression, string kept) =>
        Assert.Equal(kept, CronSchedule.Parse(expression).Expression);
}
