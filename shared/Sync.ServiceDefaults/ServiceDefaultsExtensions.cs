using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using OpenTelemetry.Metrics;
using OpenTelemetry.Resources;
using Npgsql;
using OpenTelemetry.Trace;
using Sync.ServiceDefaults;

namespace Microsoft.Extensions.Hosting;

public static class ServiceDefaultsExtensions
{
    /// <summary>
    /// Logging with scopes (job, run and batch travel in them), and OpenTelemetry traces and
    /// metrics for MassTransit, Npgsql and Sync's own meter. An OTLP exporter is added when the
    /// standard OTEL_EXPORTER_OTLP_ENDPOINT variable is set.
    /// </summary>
    public static IHostApplicationBuilder AddSyncDefaults(this IHostApplicationBuilder builder, string serviceName)
    {
        builder.Logging.AddSimpleConsole(options =>
        {
            options.IncludeScopes = true;
            options.SingleLine = true;
            options.TimestampFormat = "HH:mm:ss.fff ";
        });

        var otlp = !string.IsNullOrWhiteSpace(builder.Configuration["OTEL_EXPORTER_OTLP_ENDPOINT"]);
        builder.Services.AddOpenTelemetry()
            .ConfigureResource(resource => resource.AddService(serviceName))
            .WithTracing(tracing =>
            {
                tracing.AddSource("MassTransit").AddSource(SyncTelemetry.SourceName).AddNpgsql();
                if (otlp)
                {
                    tracing.AddOtlpExporter();
                }
            })
            .WithMetrics(metrics =>
            {
                metrics.AddMeter("MassTransit").AddMeter(SyncTelemetry.SourceName);
                if (otlp)
                {
                    metrics.AddOtlpExporter();
                }
            });
        return builder;
    }
}
