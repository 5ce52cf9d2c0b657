using MassTransit;
using MassTransit.Testing;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;
using Sync.Contracts;
using Sync.Coordinator.Data;
using Sync.Coordinator.Jobs;
using Sync.Coordinator.Runs;
using Sync.Coordinator.Runs.Activities;

namespace Sync.Coordinator.Tests.Runs;

/// <summary>
/// The run saga on MassTransit's test harness (in-memory transport) with its real activities and its
/// real persistence: the Postgres saga repository on a migrated control database of its own, so the
/// watermark, the metrics row and the run row are the ones a Coordinator would write. The stages are
/// the test: it answers ExtractBatches by hand.
/// </summary>
internal sealed class RunSagaHarness : IAsyncDisposable
{
    public const string JobName = "orders";

    private readonly ServiceProvider _services;
    private readonly ScratchDatabase _control;
    private readonly string _jobs;

    private RunSagaHarness(ServiceProvider services, ScratchDatabase control, string jobs)
    {
        _services = services;
        _control = control;
        _jobs = jobs;
    }

    public ITestHarness Harness => _services.GetRequiredService<ITestHarness>();

    public static async Task<RunSagaHarness> StartAsync()
    {
        var control = await ScratchDatabase.CreateAsync("saga_control");
        var jobs = Directory.CreateTempSubdirectory("sync-saga-jobs-").FullName;
        await File.WriteAllTextAsync(Path.Combine(jobs, "orders.yml"), SampleJobs.Orders(JobName));

        var services = new ServiceCollection()
            .AddLogging()
            .AddDbContext<CoordinatorDbContext>(options => options.UseNpgsql(control.ConnectionString))
            .AddSingleton(Options.Create(new CoordinatorOptions()))
            .AddSingleton(Options.Create(new JobsOptions { Directory = jobs }))
            .AddSingleton<JobCatalog>()
            .AddScoped<BeginRunActivity>()
            .AddScoped<BeginExtractionActivity>()
            .AddScoped<AcceptExtractionActivity>()
            .AddScoped<RecordBatchActivity>()
            .AddScoped<CompleteRunActivity>()
            .AddScoped<ContinueStreamActivity>()
            .AddScoped<FailRunActivity>()
            .AddScoped<RequestDeleteSweepActivity>()
            .AddMassTransitTestHarness(bus =>
            {
                // A saga step is a database transaction: on a busy 2-core machine one can outlast the
                // harness's default 1.2 s of inactivity, after which its Any() answers false.
                bus.SetTestTimeouts(testTimeout: TimeSpan.FromSeconds(60), testInactivityTimeout: TimeSpan.FromSeconds(5));
                bus.AddSagaStateMachine<SyncRunStateMachine, SyncRunState>().PostgresRepository<SyncRunState, CoordinatorDbContext>();
            })
            .BuildServiceProvider(validateScopes: true);

        await using (var scope = services.CreateAsyncScope())
        {
            await ControlDatabaseMigrator.MigrateAsync(scope.ServiceProvider.GetRequiredService<CoordinatorDbContext>(), CancellationToken.None);
        }

        var harness = new RunSagaHarness(services, control, jobs);
        await harness.Harness.Start();
        return harness;
    }

    /// <summary>Writes the job file anew and has the catalog read the folder again, as its watch would; returns what changed.</summary>
    public async Task<JobCatalogChange> RewriteJobAsync(string yaml)
    {
        await File.WriteAllTextAsync(Path.Combine(_jobs, "orders.yml"), yaml);
        return _services.GetRequiredService<JobCatalog>().Reload();
    }

    public Task PublishAsync<T>(T message)
        where T : class => Harness.Bus.Publish(message);

    /// <summary>Starts a run and plays the Extractor up to its completion: the run's ExtractBatches, a fenced extraction, <paramref name="batches"/> batches up to <paramref name="high"/>.</summary>
    public async Task<Guid> StartAndExtractAsync(Guid runId, int batches, string high)
    {
        await PublishAsync(new StartSyncRun(runId, JobName, "test", DateTimeOffset.UtcNow));
        Assert.Equal(RunStates.Extracting, await WaitForStateAsync(runId, RunStates.Extracting));
        Assert.True(await Harness.Published.Any<ExtractBatches>(x => x.Context.Message.RunId == runId), "the run asked for no extraction");

        var extractionId = Guid.NewGuid();
        var client = Harness.GetRequestClient<BeginExtraction>();
        var fenced = await client.GetResponse<ExtractionFenced>(new BeginExtraction(runId, JobName, extractionId));
        Assert.True(fenced.Message.Fence > 0, "the extraction got no fence");

        await PublishAsync(new ExtractionCompleted(runId, JobName, extractionId, batches, batches * 10L, Position(high), fenced.Message.Fence));
        return extractionId;
    }

    /// <summary>A run of one batch, started, extracted and loaded; returns its extraction once the run is Completed.</summary>
    public async Task<Guid> CompleteRunAsync(Guid runId, string high)
    {
        var extractionId = await StartAndExtractAsync(runId, batches: 1, high);
        await PublishAsync(Loaded(runId, extractionId, 1));
        Assert.Equal(RunStates.Completed, await WaitForStateAsync(runId, RunStates.Completed));
        return extractionId;
    }

    public static BatchLoaded Loaded(Guid runId, Guid extractionId, int batchSeq) =>
        new(runId, JobName, extractionId, batchSeq, Rows: 10, Inserted: 7, Updated: 3, Skipped: 0, Failed: 0);

    public static CursorPosition Position(string cursor) => new([cursor, "1"]);

    /// <summary>The run's state once it is <paramref name="expected"/>, or as it is after 30 s.</summary>
    public async Task<string?> WaitForStateAsync(Guid runId, string expected) =>
        (await WaitForRunAsync(runId, run => run.CurrentState == expected))?.CurrentState;

    /// <summary>The run's row once <paramref name="condition"/> holds for it, or as it is after 30 s.</summary>
    public async Task<SyncRunState?> WaitForRunAsync(Guid runId, Func<SyncRunState, bool> condition)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(30);
        while (true)
        {
            var run = await RunAsync(runId);
            if ((run is not null && condition(run)) || DateTime.UtcNow > deadline)
            {
                return run;
            }

            await Task.Delay(50);
        }
    }

    public async Task<SyncRunState?> RunAsync(Guid runId)
    {
        await using var scope = _services.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<CoordinatorDbContext>();
        return await db.Runs.AsNoTracking().SingleOrDefaultAsync(r => r.CorrelationId == runId);
    }

    /// <summary>The committed watermark's cursor (JSON), null when the job has none.</summary>
    public async Task<string?> WatermarkAsync()
    {
        await using var scope = _services.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<CoordinatorDbContext>();
        return (await db.Watermarks.AsNoTracking().SingleOrDefaultAsync(w => w.Key == JobName))?.Cursor;
    }

    public async Task<SyncMetric?> MetricsAsync(Guid runId)
    {
        await using var scope = _services.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<CoordinatorDbContext>();
        return await db.Metrics.AsNoTracking().SingleOrDefaultAsync(m => m.RunId == runId);
    }

    public async ValueTask DisposeAsync()
    {
        await Harness.Stop();
        await _services.DisposeAsync();
        await _control.DropAsync();
        Directory.Delete(_jobs, recursive: true);
    }
}
