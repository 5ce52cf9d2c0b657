using System.Diagnostics.Metrics;

namespace Sync.Outbox;

/// <summary>Sync.Outbox's meter: messages delivered from the outbox, and the concurrency conflicts replicas are expected to have.</summary>
internal sealed class OutboxMetrics
{
    private readonly Counter<long> _conflicts;
    private readonly Counter<long> _delivered;
    private readonly Counter<long> _removed;

    public OutboxMetrics(IMeterFactory meterFactory)
    {
        var meter = meterFactory.Create(OutboxTelemetry.MeterName);
        _conflicts = meter.CreateCounter<long>("sync.outbox.conflicts", description: "Expected concurrency conflicts (two replicas or two deliveries of one message at once), by where.");
        _delivered = meter.CreateCounter<long>("sync.outbox.delivered", description: "Messages the delivery service sent from the outbox, by kind (bus or stranded consumer outbox).");
        _removed = meter.CreateCounter<long>("sync.outbox.inbox_removed", description: "Inbox rows removed by the cleanup sweep, by reason.");
    }

    public void Conflict(string where) => _conflicts.Add(1, new KeyValuePair<string, object?>("where", where));

    public void Delivered(string kind, int count) => _delivered.Add(count, new KeyValuePair<string, object?>("kind", kind));

    public void Removed(string reason, int count) => _removed.Add(count, new KeyValuePair<string, object?>("reason", reason));
}
