using Sync.Batches;
using Sync.Contracts;
using Sync.Contracts.Jobs;
using Sync.Jobs;

namespace Sync.Transformer.Tests;

/// <summary>
/// A transform may make a batch larger than the job's batch_bytes; it goes on up to what a message
/// can carry, and past that fails naming the fix, rather than be refused by the broker (issue 16).
/// </summary>
public sealed class LoadBatchSizeTests
{
    [Fact]
    public void A_transformed_batch_within_the_message_limit_goes_on_though_larger_than_batch_bytes()
    {
        var message = Message("batch_bytes: 1MiB");

        LoadBatchSize.Check(message, Batch(BatchLimits.MaxBytes - 1024), []);
    }

    [Fact]
    public void A_transformed_batch_larger_than_a_message_can_carry_fails_naming_batch_bytes()
    {
        var message = Message("batch_bytes: 1MiB");

        var error = Assert.Throws<BatchTooLargeException>(() => LoadBatchSize.Check(message, Batch(BatchLimits.MaxBytes - 1024), [new RejectedRecord("transform", 0, "x", Batch(4096))]));

        Assert.Equal(
            "Job orders: batch 3 is 64.0 MiB after the transform (1.0 KiB before), more than the 64.0 MiB one batch message can carry; "
                + "lower batch_bytes (now 1.0 MiB) so that batches still fit once the transform has made their rows larger.",
            error.Message);
    }

    private static TransformBatch Message(string batchBytes)
    {
        var result = JobFile.Parse(
            $"""
            name: orders
            {batchBytes}
            source: {"{"} type: postgres, connection: source, table: orders, cursor: updated_at, primary_key: id {"}"}
            destination: {"{"} type: postgres, connection: source, table: orders_out {"}"}

            """,
            "jobs/orders.yml");
        Assert.True(result.IsValid, string.Join(Environment.NewLine, result.Errors));
        return new TransformBatch(Guid.NewGuid(), "orders", Guid.NewGuid(), 3, result.Job, Batch(1024));
    }

    private static RecordBatch Batch(int bytes) => new([new BatchColumn("body", PgTypes.Text)], 1, new byte[bytes]);
}
