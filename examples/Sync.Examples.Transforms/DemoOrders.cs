using System.Globalization;
using System.Runtime.CompilerServices;
using Sync.Sdk;

namespace Sync.Examples.Transforms;

/// <summary>
/// An example C# source (job file: <c>source: { type: code, name: demo_orders, cursor: seq, primary_key: [id] }</c>):
/// a fixed, deterministic list of orders, numbered from 1, whose cursor <c>seq</c> is the order's
/// number. Each run yields the orders after the watermark, so a second run yields none.
/// </summary>
[SyncSource("demo_orders")]
public sealed class DemoOrders(int count) : ISyncSource
{
    public const int DefaultCount = 2500;

    private static readonly DateTime Start = new(2026, 1, 1, 0, 0, 0, DateTimeKind.Utc);

    public DemoOrders()
        : this(DefaultCount)
    {
    }

    public SyncSchema Schema { get; } = new([
        new SyncColumn("seq", SyncType.Int64),
        new SyncColumn("id", SyncType.Int32),
        new SyncColumn("customer", SyncType.Text),
        new SyncColumn("total", SyncType.Numeric),
        new SyncColumn("created_at", SyncType.TimestampTz),
    ]);

    /// <summary>Order <paramref name="n"/>'s values, the same on every call: what a test compares the destination with.</summary>
    public static (string Customer, decimal Total, DateTime CreatedAt) Order(long n) =>
        ($"customer-{n % 97}", (n * 37 % 10_000) / 100m, Start.AddMinutes(n));

    public async IAsyncEnumerable<SyncRecord> ReadAsync(string? after, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        // The watermark is the last seq Sync stored, in PostgreSQL text form: a plain integer.
        var first = after is null ? 1 : long.Parse(after, CultureInfo.InvariantCulture) + 1;
        for (var n = first; n <= count; n++)
        {
            cancellationToken.ThrowIfCancellationRequested();
            var (customer, total, createdAt) = Order(n);
            var record = SyncRecord.Create(Schema);
            record.Set("seq", n);
            record.Set("id", n);
            record.Set("customer", customer);
            record.Set("total", total);
            record.Set("created_at", createdAt);
            yield return record;
        }

        await Task.CompletedTask;
    }
}
