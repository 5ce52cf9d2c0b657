using Npgsql;
using Sync.Connectors.Resilience;
using Sync.Contracts.Jobs;
using Sync.Jobs;

namespace Sync.Connectors.Postgres;

/// <summary>
/// The sweep of a full refresh, once every batch of the run is loaded and marked
/// (<see cref="RefreshKeys"/>): in one destination transaction it checks that the run's fence is
/// still the job's newest, deletes (or stamps <c>soft_delete_column</c> on) every destination row
/// whose key the run did not mark, empties the keys table and records the sweep in
/// <c>sync.applied_sweeps</c>, so a redelivered sweep reports its first count and touches nothing.
/// Readers see the table before or after the sweep, never half of it.
/// </summary>
public sealed class PostgresDeleteSweep(ConnectionCatalog connections, ConnectorResilience resilience)
{
    public async Task<SweepResult> SweepAsync(JobSpec job, Guid runId, long fence, CancellationToken cancellationToken) =>
        await resilience.ExecuteAsync(job.Destination.Connection, ct => SweepOnceAsync(job, runId, fence, ct), cancellationToken);

    private async ValueTask<SweepResult> SweepOnceAsync(JobSpec job, Guid runId, long fence, CancellationToken cancellationToken)
    {
        await using var connection = await connections.Get(job.Destination.Connection).OpenConnectionAsync(cancellationToken);
        // A sweep can be a process's first use of the destination (a refresh whose source had no rows).
        await PostgresMigrator.EnsureAsync(connection, cancellationToken);
        var (marks, keys) = await RefreshKeys.EnsureTableAsync(connection, job, cancellationToken);
        // Raises the fence if no batch did (a source with no rows); a later run's raise waits for
        // this transaction's shared lock below, and a later run that loaded first wins.
        await RunFence.RaiseAsync(connection, job.Name, fence, cancellationToken);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
        // Deliveries of one job's sweep one at a time: the second finds the first's record.
        await using (var serialise = new NpgsqlCommand("SELECT pg_advisory_xact_lock(7320513, hashtext($1))", connection))
        {
            serialise.Parameters.Add(new NpgsqlParameter { Value = job.Name });
            await serialise.ExecuteNonQueryAsync(cancellationToken);
        }

        if (await FindAsync(connection, runId, cancellationToken) is { } deleted)
        {
            return new SweepResult(deleted, Replayed: true, Superseded: false);
        }

        // Holds the fence shared until the end: a later run's first batch waits for this commit.
        if (!await RunFence.AdmitAsync(connection, job.Name, fence, cancellationToken))
        {
            await ExecuteAsync(connection, $"DELETE FROM {marks} WHERE fence <= $1", fence, cancellationToken);
            await transaction.CommitAsync(cancellationToken);
            return new SweepResult(0, Replayed: false, Superseded: true);
        }

        long count = await ExecuteAsync(connection, SweepSql(job.Destination, marks, keys), fence, cancellationToken);

        // Under the fence's lock no other run marks keys (a later run's first batch waits to raise
        // it), so the whole table can go: TRUNCATE leaves no dead rows behind, unlike DELETE.
        await ExecuteAsync(connection, $"TRUNCATE {marks}", null, cancellationToken);
        await using (var record = new NpgsqlCommand(
            "INSERT INTO sync.applied_sweeps (run_id, job_name, fence, deleted) VALUES ($1, $2, $3, $4)", connection))
        {
            record.Parameters.Add(new NpgsqlParameter { Value = runId });
            record.Parameters.Add(new NpgsqlParameter { Value = job.Name });
            record.Parameters.Add(new NpgsqlParameter { Value = fence });
            record.Parameters.Add(new NpgsqlParameter { Value = count });
            try
            {
                await record.ExecuteNonQueryAsync(cancellationToken);
            }
            catch (PostgresException exception) when (exception.SqlState == PostgresErrorCodes.UniqueViolation)
            {
                // A concurrent delivery swept first (it held the fence's lock; this one waited behind it).
                await transaction.RollbackAsync(cancellationToken);
                return new SweepResult(await FindAsync(connection, runId, cancellationToken) ?? 0, Replayed: true, Superseded: false);
            }
        }

        await transaction.CommitAsync(cancellationToken);
        return new SweepResult(count, Replayed: false, Superseded: false);
    }

    /// <summary>
    /// The statement that deletes (or soft-deletes) every destination row whose key is not marked with
    /// the fence <c>$1</c> in <paramref name="marks"/>; also the sweep of a cdc refresh
    /// (<see cref="RefreshKeys.SweepAsync"/>).
    /// </summary>
    internal static string SweepSql(DestinationSpec destination, string marks, IReadOnlyList<TableColumn> keys)
    {
        var table = SqlIdentifier.QuoteQualified(destination.Table);
        var matches = string.Join(" AND ", keys.Select(k => $"k.{SqlIdentifier.Quote(k.Name)} = d.{SqlIdentifier.Quote(k.Name)}"));
        var unmarked = $"NOT EXISTS (SELECT 1 FROM {marks} k WHERE k.fence = $1 AND {matches})";
        return destination.Deletes == DeleteMode.SoftDelete
            ? $"UPDATE {table} d SET {SqlIdentifier.Quote(destination.SoftDeleteColumn!)} = now() WHERE d.{SqlIdentifier.Quote(destination.SoftDeleteColumn!)} IS NULL AND {unmarked}"
            : $"DELETE FROM {table} d WHERE {unmarked}";
    }

    private static async Task<long?> FindAsync(NpgsqlConnection connection, Guid runId, CancellationToken cancellationToken)
    {
        await using var command = new NpgsqlCommand("SELECT deleted FROM sync.applied_sweeps WHERE run_id = $1", connection);
        command.Parameters.Add(new NpgsqlParameter { Value = runId });
        return await command.ExecuteScalarAsync(cancellationToken) is long deleted ? deleted : null;
    }

    private static async Task<int> ExecuteAsync(NpgsqlConnection connection, string sql, long? fence, CancellationToken cancellationToken)
    {
        await using var command = new NpgsqlCommand(sql, connection);
        if (fence is not null)
        {
            command.Parameters.Add(new NpgsqlParameter { Value = fence.Value });
        }

        return await command.ExecuteNonQueryAsync(cancellationToken);
    }
}

/// <summary>
/// What a sweep did: <see cref="Deleted"/> rows deleted or soft-deleted. <see cref="Replayed"/>: swept
/// before, the count is the first sweep's. <see cref="Superseded"/>: a later run had loaded, nothing was touched.
/// </summary>
public sealed record SweepResult(long Deleted, bool Replayed, bool Superseded);
