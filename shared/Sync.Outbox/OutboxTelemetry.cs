using System.Diagnostics;

namespace Sync.Outbox;

/// <summary>The names a host adds to its OpenTelemetry metrics (the outbox's counters) and traces (its deliveries).</summary>
public static class OutboxTelemetry
{
    public const string MeterName = "Sync.Outbox";

    public const string SourceName = "Sync.Outbox";

    internal static readonly ActivitySource Source = new(SourceName);
}
