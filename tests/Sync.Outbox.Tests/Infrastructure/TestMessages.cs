namespace Sync.Outbox.Tests.Infrastructure;

/// <summary>Asks the test consumer to write an order row and publish <paramref name="Publishes"/> OrderRecorded events.</summary>
public sealed record RecordOrder(Guid OrderId, int Publishes, int FailTimes = 0, bool FailDelivery = false);

/// <summary>One event of a RecordOrder, numbered in publish order.</summary>
public sealed record OrderRecorded(Guid OrderId, int Seq);

/// <summary>A failure the test consumer declares transient, so Sync's delayed redelivery brings the message back.</summary>
public sealed class TransientTestException(string message) : Exception(message);
