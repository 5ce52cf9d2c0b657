using Microsoft.EntityFrameworkCore;
using Sync.Coordinator.Data;
using Sync.Coordinator.Scheduling;

namespace Sync.Coordinator.Tests;

/// <summary>
/// Claims of scheduled starts on a real control database, as two Coordinator replicas make them
/// (issue 19): an occurrence is claimed once; a continuous job's start is claimed once until its run
/// exists and the job is quiet again, or the start was lost; a scheduled verification's occurrence is
/// claimed once, apart from the job's run.
/// </summary>
public sealed class ScheduledStartsTests : IAsyncLifetime
{
    private static readonly DateTimeOffset Occurrence = new(2026, 12, 6, 12, 0, 0, TimeSpan.Zero);
    private ScratchDatabase _control = null!;

    public async Task InitializeAsync()
    {
        _control = await ScratchDatabase.CreateAsync("starts_control");
        await using var dbContext = Control();
        await ControlDatabaseMigrator.MigrateAsync(dbContext, CancellationToken.None);
    }

    public async Task DisposeAsync() => await _control.DropAsync();

    [Fact]
    public async Task An_occurrence_is_claimed_by_one_replica_and_the_next_one_again()
    {
        await using var first = Control();
        await using var second = Control();

        Assert.True(await ScheduledStarts.ClaimOccurrenceAsync(first, "hourly", Occurrence, Guid.NewGuid(), CancellationToken.None));
        Assert.False(await ScheduledStarts.ClaimOccurrenceAsync(second, "hourly", Occurrence, Guid.NewGuid(), CancellationToken.None));
        Assert.True(await ScheduledStarts.ClaimOccurrenceAsync(second, "other", Occurrence, Guid.NewGuid(), CancellationToken.None));
        Assert.True(await ScheduledStarts.ClaimOccurrenceAsync(second, "hourly", Occurrence.AddHours(1), Guid.NewGuid(), CancellationToken.None));
    }

    [Fact]
    public async Task A_scheduled_verification_is_claimed_once_and_apart_from_the_jobs_run_at_the_same_occurrence()
    {
        await using var first = Control();
        await using var second = Control();

        Assert.True(await ScheduledStarts.ClaimOccurrenceAsync(first, "hourly", Occurrence, Guid.NewGuid(), CancellationToken.None));
        Assert.True(await ScheduledStarts.ClaimVerificationAsync(first, "hourly", Occurrence, Guid.NewGuid(), CancellationToken.None));
        Assert.False(await ScheduledStarts.ClaimVerificationAsync(second, "hourly", Occurrence, Guid.NewGuid(), CancellationToken.None));
        Assert.True(await ScheduledStarts.ClaimVerificationAsync(second, "hourly", Occurrence.AddHours(1), Guid.NewGuid(), CancellationToken.None));
    }

    [Fact]
    public async Task A_claim_rolled_back_with_its_start_leaves_the_occurrence_free()
    {
        await using (var first = Control())
        {
            await using var transaction = await first.Database.BeginTransactionAsync();
            Assert.True(await ScheduledStarts.ClaimOccurrenceAsync(first, "hourly", Occurrence, Guid.NewGuid(), CancellationToken.None));
        }

        await using var second = Control();
        Assert.True(await ScheduledStarts.ClaimOccurrenceAsync(second, "hourly", Occurrence, Guid.NewGuid(), CancellationToken.None));
    }

    [Fact]
    public async Task A_continuous_start_is_claimed_once_until_its_run_exists_and_ended_a_while_ago()
    {
        await using var first = Control();
        await using var second = Control();
        var quietSince = DateTimeOffset.UtcNow.AddSeconds(-5);
        var run = Guid.NewGuid();

        Assert.True(await ScheduledStarts.ClaimContinuousAsync(first, "cdc", run, quietSince, CancellationToken.None));
        // The start is on its way: its run is not in sync_runs yet.
        Assert.False(await ScheduledStarts.ClaimContinuousAsync(second, "cdc", Guid.NewGuid(), quietSince, CancellationToken.None));

        // Its run is active, then ended just now: still not.
        await ExecuteAsync(
            "INSERT INTO sync_runs (correlation_id, current_state, job_name, trigger, requested_at, started_at, updated_at) VALUES ($1, 'Extracting', 'cdc', 'continuous', now(), now(), now())",
            run);
        Assert.False(await ScheduledStarts.ClaimContinuousAsync(second, "cdc", Guid.NewGuid(), quietSince, CancellationToken.None));
        await ExecuteAsync("UPDATE sync_runs SET current_state = 'Failed', finished_at = now() WHERE correlation_id = $1", run);
        Assert.False(await ScheduledStarts.ClaimContinuousAsync(second, "cdc", Guid.NewGuid(), quietSince, CancellationToken.None));

        // Quiet for longer than the interval: the next start is claimed, once.
        await ExecuteAsync("UPDATE sync_runs SET started_at = now() - interval '1 minute', finished_at = now() - interval '30 seconds' WHERE correlation_id = $1", run);
        Assert.True(await ScheduledStarts.ClaimContinuousAsync(second, "cdc", Guid.NewGuid(), quietSince, CancellationToken.None));
        Assert.False(await ScheduledStarts.ClaimContinuousAsync(first, "cdc", Guid.NewGuid(), quietSince, CancellationToken.None));
    }

    [Fact]
    public async Task A_lost_continuous_start_is_claimed_again_after_the_timeout()
    {
        await using var dbContext = Control();
        var quietSince = DateTimeOffset.UtcNow.AddSeconds(-5);
        Assert.True(await ScheduledStarts.ClaimContinuousAsync(dbContext, "cdc", Guid.NewGuid(), quietSince, CancellationToken.None));
        Assert.False(await ScheduledStarts.ClaimContinuousAsync(dbContext, "cdc", Guid.NewGuid(), quietSince, CancellationToken.None));

        await ExecuteAsync("UPDATE sync_scheduled_starts SET claimed_at = claimed_at - $1::interval - interval '1 second'", ScheduledStarts.LostStartTimeout);
        Assert.True(await ScheduledStarts.ClaimContinuousAsync(dbContext, "cdc", Guid.NewGuid(), quietSince, CancellationToken.None));
    }

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

    private CoordinatorDbContext Control() =>
        new(new DbContextOptionsBuilder<CoordinatorDbContext>().UseNpgsql(_control.ConnectionString).Options);
}
