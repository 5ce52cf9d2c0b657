using Sync.Connectors.Postgres.Cdc;

namespace Sync.Connectors.Tests;

public sealed class CdcOptionsTests
{
    // Below batch_size a change waits for the flush before it leaves the Extractor: the default leaves
    // room for issue 16's p95 of 100 ms source commit → destination commit.
    [Fact]
    public void A_change_waits_at_most_50_ms_for_its_batch_by_default()
    {
        Assert.True(new CdcOptions().FlushInterval <= TimeSpan.FromMilliseconds(50), $"FlushInterval is {new CdcOptions().FlushInterval}");
    }
}
