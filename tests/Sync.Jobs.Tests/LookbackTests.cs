namespace Sync.Jobs.Tests;

public sealed class LookbackTests
{
    [Theory]
    [InlineData("90s", 90)]
    [InlineData("15m", 900)]
    [InlineData("2h", 7200)]
    [InlineData("1d", 86400)]
    [InlineData("00:10:00", 600)]
    public void Lookback_reads_durations_in_short_and_timespan_form(string text, int seconds)
    {
        var job = JobYaml.Parse(JobYaml.MinimalWith("  primary_key: id", $"  primary_key: id\n  lookback: {text}"));

        Assert.Equal(TimeSpan.FromSeconds(seconds), job.Source.Lookback);
    }

    [Fact]
    public void Without_lookback_a_run_reads_strictly_after_the_watermark()
    {
        Assert.Equal(TimeSpan.Zero, JobYaml.Parse(JobYaml.Minimal).Source.Lookback);
    }

    [Theory]
    [InlineData("ten minutes", "must be a duration like 10m")]
    [InlineData("10 minutes", "must be a duration like 10m")]
    [InlineData("30d", "must be at most 7.00:00:00")]
    public void A_bad_lookback_is_refused_with_its_line_and_a_fix(string text, string message)
    {
        var error = JobYaml.ErrorAt(JobYaml.MinimalWith("  primary_key: id", $"  primary_key: id\n  lookback: {text}"), "source.lookback");

        Assert.Contains(message, error.Message, StringComparison.Ordinal);
        Assert.Equal(8, error.Line);
    }
}
