using Sync.Contracts.Jobs;

namespace Sync.Jobs.Tests;

/// <summary>batch_bytes: batches are cut by size as well as by count (issue 16).</summary>
public sealed class BatchBytesTests
{
    [Fact]
    public void Absent_batch_bytes_is_8_MiB()
    {
        Assert.Equal(8 * 1024 * 1024, JobYaml.Parse(JobYaml.Minimal).BatchBytes);
    }

    [Theory]
    [InlineData("batch_bytes: 8MiB", 8 * 1024 * 1024)]
    [InlineData("batch_bytes: 512KiB", 512 * 1024)]
    [InlineData("batch_bytes: 64 MiB", 64 * 1024 * 1024)]
    [InlineData("batch_bytes: 65536", 65536)]
    public void Batch_bytes_takes_bytes_or_binary_units(string line, int expected)
    {
        Assert.Equal(expected, JobYaml.Parse(JobYaml.Minimal + line + "\n").BatchBytes);
    }

    [Theory]
    [InlineData("batch_bytes: 1KiB", "must be between 64KiB and 64MiB (got 1KiB)", "use 64KiB")]
    [InlineData("batch_bytes: 100MiB", "must be between 64KiB and 64MiB (got 100MiB)", "use 64MiB")]
    [InlineData("batch_bytes: 8MB", "\"8MB\": sizes are binary, write the unit as MiB", "write batch_bytes: 8MiB")]
    [InlineData("batch_bytes: lots", "must be a size between 64KiB and 64MiB (got \"lots\")", "write bytes or a size in KiB or MiB, e.g. batch_bytes: 8MiB")]
    public void Batch_bytes_out_of_range_is_refused_naming_the_file_field_and_fix(string line, string message, string fix)
    {
        var error = JobYaml.ErrorAt(JobYaml.Minimal + line + "\n", "batch_bytes");

        Assert.Equal(("jobs/test.yml", 12), (error.File, error.Line));
        Assert.StartsWith(message, error.Message, StringComparison.Ordinal);
        Assert.Equal(fix, error.Suggestion);
    }

    [Fact]
    public void The_largest_batch_bytes_stays_well_below_the_broker_message_limit()
    {
        // Rows travel base64-encoded (4/3) in a RabbitMQ message of at most 128 MiB (3.10's default).
        Assert.True(BatchLimits.MaxBytes * 4L / 3 < 128L * 1024 * 1024 * 3 / 4);
    }
}
