namespace Sync.Cli.Tests;

/// <summary>How often <c>run --follow</c> looks at a run: often while it is young, so a short run is seen to end at once.</summary>
public sealed class RunFollowerTests
{
    [Theory]
    [InlineData(0, 50)]
    [InlineData(130, 50)]
    [InlineData(2_000, 100)]
    [InlineData(5_300, 265)]
    [InlineData(10_000, 500)]
    [InlineData(3_600_000, 500)]
    public void A_run_is_looked_at_every_twentieth_of_its_age_from_50_to_500_ms(int elapsedMs, int expectedMs) =>
        Assert.Equal(TimeSpan.FromMilliseconds(expectedMs), RunFollower.PollInterval(TimeSpan.FromMilliseconds(elapsedMs)));
}
