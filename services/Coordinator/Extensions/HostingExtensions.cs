using Coravel;
using MassTransit;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;
using Sync.Coordinator;
using Sync.Coordinator.Api;
using Sync.Coordinator.Data;
using Sync.Coordinator.DeadLetters;
using Sync.Coordinator.Jobs;
using Sync.Coordinator.Runs;
using Sync.Coordinator.Runs.Activities;
using Sync.Coordinator.Scheduling;
using Sync.Coordinator.Telemetry;
using Sync.Coordinator.Verification;
using OpenTelemetry.Metrics;
using OpenTelemetry.Trace;
using Sync.Outbox;

namespace Microsoft.Extensions.Hosting;

internal static class HostingExtensions
{
    public static IHostApplicationBuilder AddCoordinator(this IHostApplicationBuilder builder)
    {
        builder.Services.AddOptions<CoordinatorOptions>().BindConfiguration(CoordinatorOptions.SectionName).ValidateDataAnnotations().ValidateOnStart();
        builder.Services.AddOptions<JobsOptions>().BindConfiguration(JobsOptions.SectionName).ValidateDataAnnotations().ValidateOnStart();

        var control = builder.Configuration.GetConnectionString("Control")
            ?? throw new InvalidOperationException("ConnectionStrings:Control is not set (environment: ConnectionStrings__Control).");
        builder.Services.AddDbContext<CoordinatorDbContext>(options => options.UseNpgsql(control));

        builder.Services.AddSingleton<JobCatalog>();
        builder.Services.AddHostedService<JobFolderWatch>();
        builder.Services.AddScoped<BeginRunActivity>();
        builder.Services.AddScoped<BeginExtractionActivity>();
        builder.Services.AddScoped<AcceptExtractionActivity>();
        builder.Services.AddScoped<PlanRangesActivity>();
        builder.Services.AddScoped<BeginRangeReadActivity>();
        builder.Services.AddScoped<RecordBatchActivity>();
        builder.Services.AddScoped<CompleteRunActivity>();
        builder.Services.AddScoped<ContinueStreamActivity>();
        builder.Services.AddScoped<FailRunActivity>();
        builder.Services.AddScoped<BeginReplayActivity>();
        builder.Services.AddScoped<BeginRepairActivity>();
        builder.Services.AddScoped<JobVerifications>();
        builder.Services.AddScoped<RequestDeleteSweepActivity>();
        builder.Services.AddSingleton<ErrorQueueReplay>();
        builder.Services.AddSingleton<StageRequests>();
        builder.Services.AddSingleton<StreamResolver>();
        builder.Services.AddHostedService<StreamResolution>();
        builder.Services.AddSingleton<CdcSlots>();
        builder.Services.AddScoped<CdcSlotCleanup>();
        builder.Services.AddHostedService<RemovedCdcSlotCleanup>();

        builder.AddSyncBus(bus =>
        {
            bus.AddSyncOutbox<CoordinatorDbContext>();
            bus.AddSagaStateMachine<SyncRunStateMachine, SyncRunState, SyncRunStateMachineDefinition>()
                .PostgresRepository<SyncRunState, CoordinatorDbContext>();
            bus.AddConsumer<FailedMessageConsumer, FailedMessageConsumerDefinition>();
            bus.AddConsumer<VerificationConsumer, VerificationConsumerDefinition>();
        });

        builder.Services.ConfigureOpenTelemetryMeterProvider(metrics => metrics.AddMeter(OutboxTelemetry.MeterName).AddPrometheusExporter());
        builder.Services.ConfigureOpenTelemetryTracerProvider(tracing => tracing.AddSource(OutboxTelemetry.SourceName));
        builder.Services.AddHostedService<WatermarkLag>();
        builder.Services.AddHostedService<QueueDepth>();
        builder.Services.AddScheduler();
        builder.Services.TryAddSingleton(TimeProvider.System);
        builder.Services.AddSingleton<CronTimetable>();
        builder.Services.AddKeyedSingleton(
            ScheduledVerifications.TimetableKey,
            (services, _) => CronTimetable.OfVerifications(services.GetRequiredService<JobCatalog>(), services.GetRequiredService<TimeProvider>()));
        builder.Services.AddTransient<ScheduledVerifications>();
        builder.Services.AddTransient<CronRunStarter>();
        builder.Services.AddTransient<StalledRunFailer>();
        builder.Services.AddTransient<RunHistoryPruning>();
        builder.Services.AddTransient<ContinuousRunStarter>();
        builder.Services.AddHealthChecks().AddControlDatabaseCheck();
        builder.Services.AddProblemDetails();
        builder.Services.AddOpenApi();
        builder.Services.ConfigureHttpJsonOptions(options => options.SerializerOptions.Converters.Add(new System.Text.Json.Serialization.JsonStringEnumConverter()));
        return builder;
    }

    /// <summary>
    /// Listens on http://127.0.0.1:5080 unless --urls, ASPNETCORE_URLS or Urls says otherwise: with no
    /// API key configured only loopback clients may change anything, so the default is loopback too.
    /// </summary>
    public static WebApplicationBuilder BindToLoopbackByDefault(this WebApplicationBuilder builder)
    {
        if (string.IsNullOrEmpty(builder.Configuration["urls"]) && string.IsNullOrEmpty(builder.Configuration["http_ports"]) && string.IsNullOrEmpty(builder.Configuration["https_ports"]))
        {
            builder.WebHost.UseUrls("http://127.0.0.1:5080");
        }

        return builder;
    }

    public static async Task MigrateControlDatabaseAsync(this WebApplication app)
    {
        // Read the job files before anything else happens: a missing folder stops the start, an invalid file only its job.
        _ = app.Services.GetRequiredService<JobCatalog>();
        await using var scope = app.Services.CreateAsyncScope();
        await ControlDatabaseMigrator.MigrateAsync(scope.ServiceProvider.GetRequiredService<CoordinatorDbContext>(), app.Lifetime.ApplicationStopping);
    }

    public static WebApplication MapCoordinatorApi(this WebApplication app)
    {
        app.UseExceptionHandler();
        app.UseStatusCodePages();
        app.UseMiddleware<ApiAccessMiddleware>();
        app.UseDashboard();
        app.MapHealthChecks("/health");
        app.MapHealthEndpoints();
        app.MapPrometheusScrapingEndpoint();
        app.MapOpenApi();
        app.MapJobsApi();
        app.MapStreamsApi();
        app.MapRunsApi();
        app.MapDeadLettersApi();
        app.MapOperationsApi();
        app.MapWatermarkApi();
        app.MapConnectionsApi();
        app.MapCdcSlotsApi();
        app.MapVerifyApi();
        return app;
    }

    public static WebApplication UseCoordinatorSchedules(this WebApplication app)
    {
        var options = app.Services.GetRequiredService<IOptions<CoordinatorOptions>>().Value;
        // Counts occurrences from now. Coravel's own .Cron() is not used: its parser is not the one
        // that validated the job files (issue 13).
        _ = app.Services.GetRequiredService<CronTimetable>();
        _ = app.Services.GetRequiredKeyedService<CronTimetable>(ScheduledVerifications.TimetableKey);
        app.Services.UseScheduler(scheduler =>
        {
            scheduler.Schedule<CronRunStarter>().EverySeconds((int)CronRunStarter.Interval.TotalSeconds).PreventOverlapping(nameof(CronRunStarter));
            scheduler.Schedule<ContinuousRunStarter>().EverySeconds((int)ContinuousRunStarter.Interval.TotalSeconds).PreventOverlapping(nameof(ContinuousRunStarter));
            scheduler.Schedule<ScheduledVerifications>().EverySeconds((int)ScheduledVerifications.Interval.TotalSeconds).PreventOverlapping(nameof(ScheduledVerifications));
            scheduler.Schedule<StalledRunFailer>().EverySeconds(options.RunTimeoutSweepSeconds).PreventOverlapping(nameof(StalledRunFailer));
            scheduler.Schedule<RunHistoryPruning>().Cron("17 * * * *").PreventOverlapping(nameof(RunHistoryPruning));
        });
        return app;
    }
}
