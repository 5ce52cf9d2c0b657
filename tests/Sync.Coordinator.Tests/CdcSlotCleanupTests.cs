using MassTransit;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using Npgsql;
using Npgsql.Replication;
using Npgsql.Replication.PgOutput;
using Sync.Connectors;
using Sync.Connectors.Postgres.Cdc;
using Sync.Contracts.Jobs;
using Sync.Coordinator.Data;
using Sync.Coordinator.Jobs;
using Sync.Extractor;
using Sync.Jobs;

namespace Sync.Coordinator.Tests;

/// <summary>
/// The Coordinator's removal of a removed cdc job's slot, against real PostgreSQL (wal_level=logical):
/// a migrated control database, and a source where the slot and publication are made as the cdc
/// reader makes them. The drop itself is the Extractor's (its DropCdcSlot consumer, on an in-memory
/// bus; the Coordinator holds no source connection). Only recorded slots of jobs no longer defined
/// go, an active one included; a slot on a connection the Extractor lacks, or while the Extractor
/// does not answer, is kept and reported, and a later attempt drops it.
/// </summary>
public sealed class CdcSlotCleanupTests : IAsyncLifetime
{
    private ScratchDatabase _control = null!;
    private ScratchDatabase _source = null!;
    private ConnectionCatalog _connections = null!;

    public async Task InitializeAsync()
    {
        _control = await ScratchDatabase.CreateAsync("cdc_control");
        _source = await ScratchDatabase.CreateAsync("cdc_slots");
        await _source.ExecuteAsync("CREATE TABLE items (id bigint PRIMARY KEY, qty integer NOT NULL)");
        _connections = new ConnectionCatalog(new ConfigurationBuilder()
            .AddInMemoryCollection(new Dictionary<string, string?> { ["Connections:source"] = _source.ConnectionString })
            .Build());
        await using var dbContext = Control();
        await ControlDatabaseMigrator.MigrateAsync(dbContext, CancellationToken.None);
    }

    public async Task DisposeAsync()
    {
        // A leftover slot would retain WAL on the shared server for ever.
        await _source.ExecuteAsync("""
            SELECT pg_terminate_backend(active_pid) FROM pg_replication_slots WHERE database = current_database() AND active;
            SELECT pg_drop_replication_slot(slot_name) FROM pg_replication_slots WHERE database = current_database() AND NOT active;
            """);
        await _connections.DisposeAsync();
        await _source.DropAsync();
        await _control.DropAsync();
    }

    [Fact]
    public async Task A_removed_job_loses_its_slot_its_publication_its_record_and_its_watermark()
    {
        var job = Job("cdc_removed_" + Suffix());
        await CreateSlotAsync(job);
        await RecordAsync(job);
        await WriteWatermarkAsync(job.Name);

        var outcomes = await CleanupAsync(defined: []);

        Assert.Equal(CdcSlotFate.Dropped, Assert.Single(outcomes, o => o.Job == job.Name).Fate);
        Assert.Equal(0L, await CountAsync(_source, "SELECT count(*) FROM pg_replication_slots WHERE slot_name = $1", CdcSlot.NameOf(job.Name)));
        Assert.Equal(0L, await CountAsync(_source, "SELECT count(*) FROM pg_publication WHERE pubname = $1", CdcSlot.NameOf(job.Name)));
        Assert.Equal(0L, await CountAsync(_control, "SELECT count(*) FROM sync_cdc_slots WHERE job = $1", job.Name));
        Assert.Equal(0L, await CountAsync(_control, "SELECT count(*) FROM sync_watermarks WHERE key = $1", job.Name));
    }

    [Fact]
    public async Task A_run_completing_while_its_job_is_removed_cannot_bring_the_watermark_back()
    {
        var job = Job("cdc_racing_" + Suffix());
        await CreateSlotAsync(job);
        await RecordAsync(job);
        await WriteWatermarkAsync(job.Name);

        // The completing run's saga transaction: it holds the record and moves the watermark, not yet committed.
        await using var completing = Control();
        await using var transaction = await completing.Database.BeginTransactionAsync();
        Assert.True(await CdcSlotCleanup.HoldRecordAsync(completing, job, CancellationToken.None));
        await completing.Database.ExecuteSqlAsync($"UPDATE sync_watermarks SET cursor = '{{\"Values\": [\"lsn:0/16B4000\"]}}' WHERE key = {job.Name}");

        var removal = CleanupAsync(defined: []);
        // The removal has dropped the slot and waits on the record the run holds.
        await WaitUntilAsync(async () => await CountAsync(
            _control, "SELECT count(*) FROM pg_stat_activity WHERE datname = $1 AND wait_event_type = 'Lock'", _control.Name) > 0);
        await transaction.CommitAsync();

        Assert.Equal(CdcSlotFate.Dropped, Assert.Single(await removal, o => o.Job == job.Name).Fate);
        Assert.Equal(0L, await CountAsync(_control, "SELECT count(*) FROM sync_cdc_slots WHERE job = $1", job.Name));
        Assert.Equal(0L, await CountAsync(_control, "SELECT count(*) FROM sync_watermarks WHERE key = $1", job.Name));

        // A run completing after the removal finds no record and commits no watermark.
        await using var late = Control();
        Assert.False(await CdcSlotCleanup.HoldRecordAsync(late, job, CancellationToken.None));
    }

    [Fact]
    public async Task A_job_still_defined_keeps_its_slot()
    {
        var job = Job("cdc_kept_" + Suffix());
        await CreateSlotAsync(job);
        await RecordAsync(job);
        await WriteWatermarkAsync(job.Name);

        var outcomes = await CleanupAsync(defined: [job.Name]);

        Assert.Equal(CdcSlotFate.Kept, Assert.Single(outcomes, o => o.Job == job.Name).Fate);
        Assert.Equal(1L, await CountAsync(_source, "SELECT count(*) FROM pg_replication_slots WHERE slot_name = $1", CdcSlot.NameOf(job.Name)));
        Assert.Equal(1L, await CountAsync(_source, "SELECT count(*) FROM pg_publication WHERE pubname = $1", CdcSlot.NameOf(job.Name)));
        Assert.Equal(1L, await CountAsync(_control, "SELECT count(*) FROM sync_cdc_slots WHERE job = $1", job.Name));
        Assert.Equal(1L, await CountAsync(_control, "SELECT count(*) FROM sync_watermarks WHERE key = $1", job.Name));
    }

    [Fact]
    public async Task A_slot_on_a_connection_no_longer_configured_is_kept_and_reported()
    {
        // Made through the configured connection, recorded under one this Coordinator no longer has.
        var job = Job("cdc_retired_" + Suffix());
        await CreateSlotAsync(job);
        var retired = Job(job.Name, connection: "retired");
        await RecordAsync(retired);

        var outcome = Assert.Single(await CleanupAsync(defined: []), o => o.Job == job.Name);

        Assert.Equal(CdcSlotFate.Skipped, outcome.Fate);
        Assert.Equal("retired", outcome.Connection);
        Assert.Contains("Connections__retired", outcome.Reason, StringComparison.Ordinal);
        Assert.Equal(1L, await CountAsync(_source, "SELECT count(*) FROM pg_replication_slots WHERE slot_name = $1", CdcSlot.NameOf(job.Name)));
        Assert.Equal(1L, await CountAsync(_control, "SELECT count(*) FROM sync_cdc_slots WHERE job = $1 AND connection = 'retired'", job.Name));
    }

    [Fact]
    public async Task With_the_Extractor_stopped_the_slot_is_kept_and_a_later_attempt_drops_it()
    {
        var job = Job("cdc_no_extractor_" + Suffix());
        await CreateSlotAsync(job);
        await RecordAsync(job);
        await WriteWatermarkAsync(job.Name);

        var outcome = Assert.Single(await CleanupAsync(defined: [], extractorRunning: false), o => o.Job == job.Name);

        Assert.Equal(CdcSlotFate.Skipped, outcome.Fate);
        Assert.Contains("the Extractor did not answer", outcome.Reason, StringComparison.Ordinal);
        Assert.Equal(1L, await CountAsync(_source, "SELECT count(*) FROM pg_replication_slots WHERE slot_name = $1", CdcSlot.NameOf(job.Name)));
        Assert.Equal(1L, await CountAsync(_control, "SELECT count(*) FROM sync_cdc_slots WHERE job = $1", job.Name));
        Assert.Equal(1L, await CountAsync(_control, "SELECT count(*) FROM sync_watermarks WHERE key = $1", job.Name));

        // The Extractor is back.
        Assert.Equal(CdcSlotFate.Dropped, Assert.Single(await CleanupAsync(defined: []), o => o.Job == job.Name).Fate);
        Assert.Equal(0L, await CountAsync(_source, "SELECT count(*) FROM pg_replication_slots WHERE slot_name = $1", CdcSlot.NameOf(job.Name)));
        Assert.Equal(0L, await CountAsync(_control, "SELECT count(*) FROM sync_cdc_slots WHERE job = $1", job.Name));
        Assert.Equal(0L, await CountAsync(_control, "SELECT count(*) FROM sync_watermarks WHERE key = $1", job.Name));
    }

    [Fact]
    public async Task A_slot_a_run_still_streams_from_is_dropped_after_its_reader_is_ended()
    {
        var job = Job("cdc_active_" + Suffix());
        await CreateSlotAsync(job);
        await RecordAsync(job);
        await using var replication = new LogicalReplicationConnection(_source.ConnectionString);
        await replication.Open();
        var streaming = StreamAsync(replication, job);
        await WaitUntilAsync(async () => await CountAsync(_source, "SELECT count(*) FROM pg_replication_slots WHERE slot_name = $1 AND active", CdcSlot.NameOf(job.Name)) == 1);

        var outcomes = await CleanupAsync(defined: []);

        Assert.Equal(CdcSlotFate.Dropped, Assert.Single(outcomes, o => o.Job == job.Name).Fate);
        Assert.Equal(0L, await CountAsync(_source, "SELECT count(*) FROM pg_replication_slots WHERE slot_name = $1", CdcSlot.NameOf(job.Name)));
        // The reader's connection was ended by the server.
        await Assert.ThrowsAnyAsync<Exception>(() => streaming);
    }

    [Fact]
    public async Task A_slot_Sync_did_not_record_is_never_dropped()
    {
        var job = Job("cdc_unrecorded_" + Suffix());
        await CreateSlotAsync(job);

        var outcomes = await CleanupAsync(defined: []);

        Assert.DoesNotContain(outcomes, o => o.Job == job.Name);
        Assert.Equal(1L, await CountAsync(_source, "SELECT count(*) FROM pg_replication_slots WHERE slot_name = $1", CdcSlot.NameOf(job.Name)));
    }

    [Fact]
    public async Task A_job_whose_file_turned_invalid_keeps_its_slot_at_start_up()
    {
        var broken = Job("cdc_broken_" + Suffix());
        var removed = Job("cdc_gone_" + Suffix());
        foreach (var job in new[] { broken, removed })
        {
            await CreateSlotAsync(job);
            await RecordAsync(job);
            await WriteWatermarkAsync(job.Name);
        }

        // A typo in the file of a job that streams: the Coordinator starts, the job does not run.
        await SweepOnStartAsync(("broken.yml", JobYaml(broken.Name) + "batch_size: 5\n"));

        Assert.Equal(1L, await CountAsync(_source, "SELECT count(*) FROM pg_replication_slots WHERE slot_name = $1", CdcSlot.NameOf(broken.Name)));
        Assert.Equal(1L, await CountAsync(_control, "SELECT count(*) FROM sync_cdc_slots WHERE job = $1", broken.Name));
        Assert.Equal(1L, await CountAsync(_control, "SELECT count(*) FROM sync_watermarks WHERE key = $1", broken.Name));
        Assert.Equal(0L, await CountAsync(_source, "SELECT count(*) FROM pg_replication_slots WHERE slot_name = $1", CdcSlot.NameOf(removed.Name)));
    }

    [Fact]
    public async Task Every_slot_is_kept_while_an_invalid_file_gives_no_job_name()
    {
        var job = Job("cdc_unnamed_" + Suffix());
        await CreateSlotAsync(job);
        await RecordAsync(job);
        await WriteWatermarkAsync(job.Name);

        // The job's file, no longer YAML: nothing says which job it was.
        await SweepOnStartAsync(("cdc.yml", JobYaml(job.Name) + "  key: [id\n"));

        Assert.Equal(1L, await CountAsync(_source, "SELECT count(*) FROM pg_replication_slots WHERE slot_name = $1", CdcSlot.NameOf(job.Name)));
        Assert.Equal(1L, await CountAsync(_control, "SELECT count(*) FROM sync_cdc_slots WHERE job = $1", job.Name));
        Assert.Equal(1L, await CountAsync(_control, "SELECT count(*) FROM sync_watermarks WHERE key = $1", job.Name));
    }

    /// <summary>The Coordinator's start-up sweep over a jobs folder holding these files.</summary>
    private async Task SweepOnStartAsync(params (string File, string Yaml)[] files)
    {
        var folder = Directory.CreateTempSubdirectory("sync-cdc-jobs").FullName;
        try
        {
            foreach (var (file, yaml) in files)
            {
                await File.WriteAllTextAsync(Path.Combine(folder, file), yaml);
            }

            var jobs = new JobCatalog(Options.Create(new JobsOptions { Directory = folder }), NullLogger<JobCatalog>.Instance);
            Assert.NotEmpty(jobs.Invalid);
            await using var services = await StartServicesAsync(extractorRunning: true);
            var lifetime = new Microsoft.Extensions.Hosting.Internal.ApplicationLifetime(NullLogger<Microsoft.Extensions.Hosting.Internal.ApplicationLifetime>.Instance);
            lifetime.NotifyStarted();
            using var sweep = new RemovedCdcSlotCleanup(
                services.GetRequiredService<IServiceScopeFactory>(), jobs, lifetime, Options.Create(new CoordinatorOptions()), NullLogger<RemovedCdcSlotCleanup>.Instance);
            await sweep.StartAsync(CancellationToken.None);
            await sweep.ExecuteTask!;
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
        }
    }

    private CoordinatorDbContext Control() => new(new DbContextOptionsBuilder<CoordinatorDbContext>().UseNpgsql(_control.ConnectionString).Options);

    private async Task<IReadOnlyList<CdcSlotOutcome>> CleanupAsync(HashSet<string> defined, bool extractorRunning = true)
    {
        await using var services = await StartServicesAsync(extractorRunning);
        await using var scope = services.CreateAsyncScope();
        return await scope.ServiceProvider.GetRequiredService<CdcSlotCleanup>().RemoveOrphansAsync(defined, null, CancellationToken.None);
    }

    /// <summary>
    /// The Coordinator's clean-up and, unless <paramref name="extractorRunning"/> is false, the
    /// Extractor's DropCdcSlot consumer with the source connection, on one started in-memory bus.
    /// </summary>
    private async Task<RunningServices> StartServicesAsync(bool extractorRunning)
    {
        var services = new ServiceCollection()
            .AddDbContext<CoordinatorDbContext>(options => options.UseNpgsql(_control.ConnectionString))
            .AddSingleton(_connections)
            .AddLogging()
            .AddSingleton(Options.Create(new CoordinatorOptions { StageRequestTimeout = TimeSpan.FromSeconds(2) }))
            .AddSingleton<StageRequests>()
            .AddSingleton<CdcSlots>()
            .AddScoped<CdcSlotCleanup>()
            .AddMassTransit(bus =>
            {
                if (extractorRunning)
                {
                    bus.AddConsumer<DropCdcSlotConsumer, DropCdcSlotConsumerDefinition>();
                }

                bus.UsingInMemory((context, transport) => transport.ConfigureEndpoints(context));
            })
            .BuildServiceProvider();
        await services.GetRequiredService<IBusControl>().StartAsync(CancellationToken.None);
        return new RunningServices(services);
    }

    private sealed class RunningServices(ServiceProvider services) : IServiceProvider, IAsyncDisposable
    {
        public object? GetService(Type serviceType) => services.GetService(serviceType);

        public async ValueTask DisposeAsync()
        {
            await services.GetRequiredService<IBusControl>().StopAsync(CancellationToken.None);
            await services.DisposeAsync();
        }
    }

    private async Task RecordAsync(JobSpec job)
    {
        await using var dbContext = Control();
        await CdcSlotCleanup.RecordAsync(dbContext, job, CancellationToken.None);
        // A second run of the job records nothing new.
        await CdcSlotCleanup.RecordAsync(dbContext, job, CancellationToken.None);
    }

    /// <summary>The publication and the slot, made with the calls the cdc reader's first run makes.</summary>
    private async Task CreateSlotAsync(JobSpec job)
    {
        await using (var connection = await _connections.Get("source").OpenConnectionAsync())
        {
            await CdcSlot.EnsurePublicationAsync(connection, job, CancellationToken.None);
        }

        await using var replication = new LogicalReplicationConnection(_source.ConnectionString);
        await replication.Open();
        await replication.CreatePgOutputReplicationSlot(CdcSlot.NameOf(job.Name), slotSnapshotInitMode: LogicalSlotSnapshotInitMode.NoExport);
    }

    private static async Task StreamAsync(LogicalReplicationConnection replication, JobSpec job)
    {
        var name = CdcSlot.NameOf(job.Name);
        await foreach (var _ in replication.StartReplication(
            new PgOutputReplicationSlot(name), new PgOutputReplicationOptions(name, PgOutputProtocolVersion.V1), CancellationToken.None))
        {
        }
    }

    private async Task WriteWatermarkAsync(string jobName) => await ExecuteAsync(
        _control, "INSERT INTO sync_watermarks (key, cursor, metadata, updated_at) VALUES ($1, '{\"Values\": [\"lsn:0/16B3748\"]}', '{}', now())", jobName);

    private static async Task WaitUntilAsync(Func<Task<bool>> condition)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(30);
        while (!await condition())
        {
            Assert.True(DateTime.UtcNow < deadline, "the condition did not hold within 30 s");
            await Task.Delay(50);
        }
    }

    private static async Task<long> CountAsync(ScratchDatabase database, string sql, string value)
    {
        await using var connection = new NpgsqlConnection(database.ConnectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand(sql, connection) { Parameters = { new NpgsqlParameter { Value = value } } };
        return (long)(await command.ExecuteScalarAsync())!;
    }

    private static async Task ExecuteAsync(ScratchDatabase database, string sql, string value)
    {
        await using var connection = new NpgsqlConnection(database.ConnectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand(sql, connection) { Parameters = { new NpgsqlParameter { Value = value } } };
        await command.ExecuteNonQueryAsync();
    }

    private static JobSpec Job(string name, string connection = "source")
    {
        var result = JobFile.Parse(JobYaml(name, connection), "cdc.yml");
        Assert.True(result.IsValid, string.Join(Environment.NewLine, result.Errors));
        return result.Job;
    }

    private static string JobYaml(string name, string connection = "source") =>
        $"""
            name: {name}
            schedule: continuous
            source:
              type: postgres
              connection: {connection}
              table: public.items
              mode: cdc
              primary_key: [id]
            destination:
              type: postgres
              connection: destination
              table: public.items_copy

            """;

    private static string Suffix() => Guid.NewGuid().ToString("N")[..8];
}
