using Sync.Sdk;

namespace Sync.Examples.Transforms;

/// <summary>
/// An example C# transform (job file: <c>transform: { code: order_tier }</c>): adds a <c>tier</c>
/// column from the order's total, drops test orders (customer starting with "test-") and rejects
/// orders with a negative total as dead letters.
/// </summary>
[SyncTransform("order_tier")]
public sealed class OrderTier : ISyncTransform
{
    public void DescribeOutput(SyncSchema schema) => schema.Add("tier", SyncType.Text);

    public TransformResult Transform(SyncRecord record)
    {
        if (record.GetString("customer")?.StartsWith("test-", StringComparison.Ordinal) == true)
        {
            return TransformResult.Drop;
        }

        var total = record.GetDecimal("total");
        if (total < 0)
        {
            return TransformResult.Reject($"negative total {total}");
        }

        record.Set("tier", total switch
        {
            null => null,
            >= 1000m => "gold",
            >= 100m => "silver",
            _ => "bronze",
        });
        return TransformResult.Keep;
    }
}
