using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using Sync.Coordinator.Data;
using Sync.Coordinator.Runs;

namespace Sync.Coordinator.Tests;

/// <summary>
/// Run history retention on a real control database: finished runs older than the retention go with
/// their batches and metrics, each job's latest run and verification stay whatever their age, active
/// runs and everything younger stay, and nothing else (watermarks, dead letters) is touched.
/// </summary>
public sealed class RunHistoryPruningTests : IAsyncLifetime
{
    private static readonly DateTimeOffset Now = new(2026, 12, 6, 12, 0, 0, TimeSpan.Zero);
    private ScratchDatabase _control = null!;

    public async Task InitializeAsync()
    {
        _control = await ScratchDatabase.CreateAsync("history_control");
        await using var dbContext = Control();
        await ControlDatabaseMigrator.MigrateAsync(dbContext, CancellationToken.None);
    }

    public async Task DisposeAsync() => await _control.DropAsync();

    [Fact]
    public async Task Old_finished_runs_go_with_their_batches_and_metrics_and_each_jobs_latest_run_and_verification_stay()
    {
        // Job a: three old finished runs (the latest of them is a's latest run) and one young.
        // Job b: one old run only (its latest), and an old active run cannot be (it is the latest, too).
        // Job c: an active run that started long ago and an older finished one.
        await RunAsync("a-old-1", "a", "Completed", daysAgo: 90);
        await RunAsync("a-old-2", "a", "Failed", daysAgo: 60);
        await RunAsync("a-old-3", "a", "Rejected", daysAgo: 45);
        await RunAsync("a-young", "a", "Completed", daysAgo: 1);
        await RunAsync("b-only", "b", "Completed", daysAgo: 400);
        await RunAsync("c-old", "c", "Completed", daysAgo: 50);
        await RunAsync("c-active", "c", "Loading", daysAgo: 40, finished: false);
        await VerificationAsync("a", daysAgo: 100);
        await VerificationAsync("a", daysAgo: 70);
        await VerificationAsync("b", daysAgo: 300);
        await _control.ExecuteAsync("INSERT INTO sync_watermarks (key, cursor, updated_at) VALUES ('a', '{\"values\":[\"1\"]}', now() - interval '99 days')");

        await using var dbContext = Control();
        var pruning = new RunHistoryPruning(dbContext, Options.Create(new CoordinatorOptions()), TimeProvider.System, NullLogger<RunHistoryPruning>.Instance);
        var (runs, verifications) = await pruning.PruneAsync(Now - TimeSpan.FromDays(30), CancellationToken.None);

        Assert.Equal((4L, 1L), (runs, verifications));
        Assert.Equal(["a-young", "b-only", "c-active"], await NamesAsync("SELECT trigger FROM sync_runs ORDER BY trigger"));
        Assert.Equal(["a-young", "b-only", "c-active"], await NamesAsync("SELECT r.trigger FROM sync_run_batches b JOIN sync_runs r ON r.correlation_id = b.run_id ORDER BY 1"));
        Assert.Equal(3L, await CountAsync("SELECT count(*) FROM sync_run_batches"));
        Assert.Equal(2L, await CountAsync("SELECT count(*) FROM sync_metrics"));
        Assert.Equal(["a:70", "b:300"], await NamesAsync("SELECT job_name || ':' || extract(day FROM $1::timestamptz - verified_at)::int FROM sync_verifications ORDER BY 1", Now));
        Assert.Equal(1L, await CountAsync("SELECT count(*) FROM sync_watermarks"));

        // A second pass finds nothing more.
        Assert.Equal((0L, 0L), await pruning.PruneAsync(Now - TimeSpan.FromDays(30), CancellationToken.None));
    }

    /// <summary>A run (its trigger column holds <paramref name="label"/>) with one loaded batch and, when finished, a metrics row.</summary>
    private async Task RunAsync(string label, string job, string state, int daysAgo, bool finished = true)
    {
        var id = Guid.NewGuid();
        var started = Now - TimeSpan.FromDays(daysAgo);
        DateTimeOffset? end = finished ? started.AddMinutes(1) : null;
        await ExecuteAsync(
            """
            INSERT INTO sync_runs (correlation_id, current_state, job_name, trigger, requested_at, started_at, finished_at, updated_at)
            VALUES ($1, $2, $3, $4, $5, $5, $6, $5)
            """,
            id, state, job, label, started, (object?)end ?? DBNull.Value);
        await ExecuteAsync(
            "INSERT INTO sync_run_batches (run_id, extraction_id, batch_seq, rows, inserted, updated, skipped, failed, loaded_at) VALUES ($1, $1, 1, 10, 10, 0, 0, 0, $2)",
            id, started);
        if (end is { } finishedAt)
        {
            await ExecuteAsync(
                "INSERT INTO sync_metrics (job_name, run_id, started_at, finished_at, processed, inserted, updated, skipped, errors, duration_ms) VALUES ($1, $2, $3, $4, 10, 10, 0, 0, 0, 60000)",
                job, id, started, finishedAt);
        }
    }

    private Task VerificationAsync(string job, int daysAgo) =>
        ExecuteAsync(
            """
            INSERT INTO sync_verifications (id, job_name, verified_at, outcome, source_rows, destination_rows, missing, extra, different, duplicated, duration_ms, mismatches)
            VALUES ($1, $2, $3, 'Equal', 0, 0, 0, 0, 0, 0, 1, '[]')
            """,
            Guid.NewGuid(), job, Now - TimeSpan.FromDays(daysAgo));

    private async Task ExecuteAsync(string sql, params object[] parameters)
    {
        await using var connection = new Npgsql.NpgsqlConnection(_control.ConnectionString);
        await connection.OpenAsync();
        await using var command = new Npgsql.NpgsqlCommand(sql, connection);
        foreach (var parameter in parameters)
        {
            command.Parameters.Add(new Npgsql.NpgsqlParameter { Value = parameter });
        }

        await command.ExecuteNonQueryAsync();
    }

    private async Task<List<string>> NamesAsync(string sql, params object[] parameters)
    {
        await using var dbContext = Control();
        await using var connection = (Npgsql.NpgsqlConnection)dbContext.Database.GetDbConnection();
        await connection.OpenAsync();
        await using var command = new Npgsql.NpgsqlCommand(sql, connection);
        foreach (var parameter in parameters)
        {
            command.Parameters.Add(new Npgsql.NpgsqlParameter { Value = parameter });
        }

        var names = new List<string>();
        await using var reader = await command.ExecuteReaderAsync();
        while (await reader.ReadAsync())
        {
            names.Add(reader.GetString(0));
        }

        return names;
    }

    private async Task<long> CountAsync(string sql) => Convert.ToInt64((await NamesAsync($"SELECT ({sql})::text")).Single(), System.Globalization.CultureInfo.InvariantCulture);

    private CoordinatorDbContext Control() => new(new DbContextOptionsBuilder<CoordinatorDbContext>().UseNpgsql(_control.ConnectionString).Options);
}
