namespace Sync.Outbox;

/// <summary>The name a host adds to its OpenTelemetry metrics to export the outbox's counters.</summary>
public static class OutboxTelemetry
{
    public const string MeterName = "Sync.Outbox";
}
