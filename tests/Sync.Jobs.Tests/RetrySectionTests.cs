namespace Sync.Jobs.Tests;

public sealed class RetrySectionTests
{
    [Fact]
    public void Without_a_retry_section_the_job_uses_the_service_default()
    {
        Assert.Null(JobYaml.Parse(JobYaml.Minimal).Retry);
    }

    [Fact]
    public void Redelivery_waits_are_read_in_order_with_their_units()
    {
        var job = JobYaml.Parse(JobYaml.Minimal + "retry: { redelivery: [500ms, 5s, 30s, 2m, 1h, 1d] }\n");

        Assert.Equal(
            [TimeSpan.FromMilliseconds(500), TimeSpan.FromSeconds(5), TimeSpan.FromSeconds(30), TimeSpan.FromMinutes(2), TimeSpan.FromHours(1), TimeSpan.FromDays(1)],
            job.Retry!.Redelivery);
    }

    [Fact]
    public void TimeSpan_text_and_block_style_are_accepted()
    {
        var job = JobYaml.Parse(JobYaml.Minimal + "retry:\n  redelivery:\n    - 00:00:05\n    - \"00:02:00\"\n");

        Assert.Equal([TimeSpan.FromSeconds(5), TimeSpan.FromMinutes(2)], job.Retry!.Redelivery);
    }

    [Fact]
    public void A_single_wait_counts_as_a_list_of_one()
    {
        Assert.Equal([TimeSpan.FromSeconds(10)], JobYaml.Parse(JobYaml.Minimal + "retry:\n  redelivery: 10s\n").Retry!.Redelivery);
    }

    [Fact]
    public void An_empty_list_turns_redelivery_off()
    {
        Assert.Empty(JobYaml.Parse(JobYaml.Minimal + "retry:\n  redelivery: []\n").Retry!.Redelivery);
    }

    [Theory]
    [InlineData("5x", "must be a duration like 30s, 2m, 1h or 00:00:30 (got \"5x\")")]
    [InlineData("soon", "must be a duration like 30s, 2m, 1h or 00:00:30 (got \"soon\")")]
    [InlineData("0s", "must be longer than zero (got \"0s\")")]
    [InlineData("-00:00:05", "must be longer than zero (got \"-00:00:05\")")]
    [InlineData("2d", "must be at most one day (got \"2d\")")]
    [InlineData("1.00:00:01", "must be at most one day (got \"1.00:00:01\")")]
    public void A_bad_wait_is_reported_at_its_position(string wait, string message)
    {
        var error = JobYaml.ErrorAt(JobYaml.Minimal + $"retry:\n  redelivery: [5s, {wait}]\n", "retry.redelivery[1]");

        Assert.Equal((13, 20), (error.Line, error.Column));
        Assert.Equal(message, error.Message);
        Assert.NotNull(error.Suggestion);
    }

    [Theory]
    [InlineData("5 seconds", "write 5s")]
    [InlineData("2min", "write 2m")]
    [InlineData("30", "write 30s")]
    public void A_wait_with_a_spelled_out_unit_gets_the_short_form_as_its_fix(string wait, string fix)
    {
        var error = JobYaml.ErrorAt(JobYaml.Minimal + $"retry:\n  redelivery: [{wait}]\n", "retry.redelivery[0]");

        Assert.Equal(fix, error.Suggestion);
    }

    [Fact]
    public void More_than_ten_waits_are_refused_at_the_eleventh()
    {
        var error = JobYaml.ErrorAt(JobYaml.Minimal + "retry:\n  redelivery: [1s, 2s, 3s, 4s, 5s, 6s, 7s, 8s, 9s, 10s, 11s]\n", "retry.redelivery");

        Assert.Equal("lists 11 waits; at most 10 are allowed", error.Message);
        Assert.Equal((13, 57), (error.Line, error.Column));
    }

    [Fact]
    public void A_retry_section_without_redelivery_is_reported_with_the_fix()
    {
        var error = JobYaml.ErrorAt(JobYaml.Minimal + "retry: {}\n", "retry");

        Assert.Equal("has no redelivery: list", error.Message);
        Assert.StartsWith("add redelivery: [5s, 30s, 2m]", error.Suggestion, StringComparison.Ordinal);
    }

    [Fact]
    public void An_unknown_key_under_retry_suggests_the_known_one()
    {
        var error = JobYaml.ErrorAt(JobYaml.Minimal + "retry:\n  redeliveries: [5s]\n  redelivery: [5s]\n", "retry.redeliveries");

        Assert.Equal("rename redeliveries to redelivery", error.Suggestion);
    }

    [Fact]
    public void Retry_as_a_single_value_is_reported()
    {
        var error = JobYaml.ErrorAt(JobYaml.Minimal + "retry: 5s\n", "retry");

        Assert.StartsWith("must be a mapping of keys (redelivery)", error.Message, StringComparison.Ordinal);
    }
}
