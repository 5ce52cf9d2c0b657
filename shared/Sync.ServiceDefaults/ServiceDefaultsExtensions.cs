using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Console;
using OpenTelemetry.Metrics;
using OpenTelemetry.Resources;
using Npgsql;
using OpenTelemetry.Trace;
using Sync.ServiceDefaults;

namespace Microsoft.Extensions.Hosting;

public static class ServiceDefaultsExtensions
{
    /// <summary>
    /// Logging with scopes (job, run and batch travel in them) as JSON lines by default, secrets
    /// masked; OpenTelemetry traces and metrics for MassTransit, Npgsql and Sync's own meter. An
    /// OTLP exporter is added when the standard OTEL_EXPORTER_OTLP_ENDPOINT variable is set, and
    /// OTEL_SERVICE_NAME, when set, names the service instead of <paramref name="serviceName"/>.
    /// </summary>
    public static IHostApplicationBuilder AddSyncDefaults(this IHostApplicationBuilder builder, string serviceName)
    {
        // Last, so a NAME_FILE secret wins over the environment's NAME.
        builder.Configuration.Add(new SecretFilesSource(Environment.GetEnvironmentVariables()));
        builder.AddSyncLogging();

        var otlp = !string.IsNullOrWhiteSpace(builder.Configuration["OTEL_EXPORTER_OTLP_ENDPOINT"]);
        var name = builder.Configuration["OTEL_SERVICE_NAME"] is { Length: > 0 } configured ? configured : serviceName;
        // The standard sampler variables win; without them, standalone database calls are not traced.
        var defaultSampler = string.IsNullOrWhiteSpace(builder.Configuration["OTEL_TRACES_SAMPLER"]);
        builder.Services.AddOpenTelemetry()
            .ConfigureResource(resource => resource.AddService(name))
            .WithTracing(tracing =>
            {
                tracing.AddSource("MassTransit").AddSource(SyncTelemetry.SourceName).AddNpgsql();
                if (defaultSampler)
                {
                    tracing.SetSampler(new ParentBasedSampler(new RootSpanSampler()));
                }

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

    /// <summary>
    /// <c>/health/live</c> and <c>/health/ready</c> on <c>Health:Urls</c> when that is set (Kubernetes'
    /// probes of the Extractor, Transformer and Loader; see <see cref="HealthEndpointsServer"/>). Call
    /// it before the bus is added: hosted services start in order, and liveness must answer while the
    /// bus still waits for RabbitMQ.
    /// </summary>
    public static IHostApplicationBuilder AddSyncHealthEndpoints(this IHostApplicationBuilder builder)
    {
        builder.Services.AddHealthChecks();
        builder.Services.AddSingleton<HealthEndpointsServer>();
        builder.Services.AddHostedService(services => services.GetRequiredService<HealthEndpointsServer>());
        return builder;
    }

    /// <summary>
    /// Console logs with scopes, as JSON lines unless <c>Logging:Console:FormatterName</c> says
    /// <c>simple</c> (or <c>systemd</c>); standard output and error pass through <see cref="SecretRedactor"/>.
    /// </summary>
    public static IHostApplicationBuilder AddSyncLogging(this IHostApplicationBuilder builder)
    {
        var redactor = SecretRedactor.FromConfiguration(builder.Configuration);
        if (Console.Out is not RedactingTextWriter)
        {
            Console.SetOut(new RedactingTextWriter(Console.Out, redactor));
            Console.SetError(new RedactingTextWriter(Console.Error, redactor));
        }

        builder.Services.AddSingleton(redactor);
        builder.Logging.AddConsole();
        builder.Services.PostConfigure<ConsoleLoggerOptions>(options => options.FormatterName ??= ConsoleFormatterNames.Json);
        builder.Services.Configure<JsonConsoleFormatterOptions>(options =>
        {
            options.IncludeScopes = true;
            options.UseUtcTimestamp = true;
            options.TimestampFormat = "yyyy-MM-ddTHH:mm:ss.fffZ";
        });
        builder.Services.Configure<SimpleConsoleFormatterOptions>(options =>
        {
            options.IncludeScopes = true;
            options.SingleLine = true;
            options.TimestampFormat = "HH:mm:ss.fff ";
        });
        return builder;
    }
}
