using System.Collections.Concurrent;
using System.Security.Cryptography;
using System.Text;
using Npgsql;
using Sync.Batches;
using Sync.Contracts;
using Sync.Contracts.Jobs;
using Sync.Jobs;

namespace Sync.Connectors.Postgres;

/// <summary>
/// The mark of a full refresh: every destination key a run loaded, stamped with the run's fence, in
/// a table of the destination's <c>sync</c> schema typed like the destination's key columns, so the
/// sweep (<see cref="PostgresDeleteSweep"/>) is one anti-join. One table per job and key shape
/// (<c>sync.refresh_keys_&lt;hash&gt;</c>); a changed key gets a new table. Written in the batch's
/// load transaction, so a batch's keys are marked exactly when its rows are loaded.
/// </summary>
public static class RefreshKeys
{
    private static readonly ConcurrentDictionary<string, (string Table, IReadOnlyList<TableColumn> Keys)> Created = new(StringComparer.Ordinal);

    /// <summary>Whether the job's runs mark keys: a full refresh that deletes or soft-deletes.</summary>
    public static bool Applies(JobSpec job) => job.Mode == SyncMode.FullRefresh && job.Destination.Deletes != DeleteMode.Keep;

    /// <summary>
    /// Whether a change batch takes part in a cdc refresh: its <see cref="RowOperations.Refresh"/> rows
    /// are marked with the extraction's fence, and its <see cref="RowOperations.Sweep"/> removes what
    /// they did not mark (<see cref="SweepAsync"/>).
    /// </summary>
    public static bool Refreshes(RecordBatch batch) =>
        batch.Operations is { } operations && (operations is [RowOperations.Sweep] || Array.IndexOf(operations, RowOperations.Refresh) >= 0);

    /// <summary>The quoted name of the job's keys table for a destination table's key columns.</summary>
    public static string TableName(JobSpec job, IReadOnlyList<TableColumn> keyColumns)
    {
        var shape = $"{job.Name}|{job.Destination.Table}|" + string.Join("|", keyColumns.Select(c => $"{c.Name}:{c.TypeName}"));
        var hash = Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(shape)).AsSpan(0, 8));
        return $"sync.{SqlIdentifier.Quote($"refresh_keys_{hash}")}";
    }

    /// <summary>
    /// The destination's key columns as the catalog has them, and the keys table, created after the
    /// destination's bookkeeping is migrated (a sweep may be a process's first use of the destination)
    /// and outside any load transaction (concurrent CREATE … IF NOT EXISTS can collide in the catalog;
    /// the migrations' advisory lock serialises it).
    /// </summary>
    internal static async Task<(string Table, IReadOnlyList<TableColumn> Keys)> EnsureTableAsync(NpgsqlConnection connection, JobSpec job, CancellationToken cancellationToken)
    {
        var destination = job.Destination;
        var cacheKey = $"{connection.ConnectionString}|{job.Name}|{destination.Table}|{string.Join(",", destination.Key)}";
        if (Created.TryGetValue(cacheKey, out var known))
        {
            return known;
        }

        var columns = await PostgresSchema.GetColumnsAsync(connection, destination.Table, cancellationToken)
            ?? throw new DestinationSchemaException($"Destination table {destination.Table} does not exist.");
        var keys = destination.Key
            .Select(k => columns.FirstOrDefault(c => c.Name == k)
                ?? throw new DestinationSchemaException($"Destination table {destination.Table} has no key column \"{k}\"."))
            .ToList();
        var table = TableName(job, keys);
        await PostgresMigrator.EnsureAsync(connection, cancellationToken);
        await using var command = new NpgsqlCommand(
            $"""
            BEGIN;
            SELECT pg_advisory_xact_lock(7320512);
            {CreateSql(table, keys)};
            COMMIT;
            """,
            connection);
        await command.ExecuteNonQueryAsync(cancellationToken);
        Created.TryAdd(cacheKey, (table, keys));
        return (table, keys);
    }

    /// <summary>
    /// The one definition of a keys table: the run's fence and the destination's key columns, typed as
    /// the destination has them. Not a migration's, since its columns are the job's; a change to the
    /// fixed part (fence, the primary key) comes with a destination migration that alters the existing
    /// ones in place (Migrations/0003_applied_sweeps.sql says why not dropped).
    /// </summary>
    internal static string CreateSql(string table, IReadOnlyList<TableColumn> keys)
    {
        var definition = string.Join(", ", keys.Select(k => $"{SqlIdentifier.Quote(k.Name)} {k.TypeName} NOT NULL"));
        var primaryKey = string.Join(", ", keys.Select(k => SqlIdentifier.Quote(k.Name)));
        return $"CREATE TABLE IF NOT EXISTS {table} (fence bigint NOT NULL, {definition}, PRIMARY KEY (fence, {primaryKey}))";
    }

    /// <summary>
    /// The sweep of a cdc refresh, in the load transaction of its batch (so applied once): the
    /// destination rows whose key the refresh's rows, marked with <paramref name="fence"/>, did not
    /// name go (or are stamped, under soft-delete); then the marks of this and older extractions.
    /// Returns how many rows went.
    /// </summary>
    internal static async Task<int> SweepAsync(
        NpgsqlConnection connection, DestinationSpec destination, string table, IReadOnlyList<TableColumn> keys, long fence, CancellationToken cancellationToken)
    {
        int deleted;
        await using (var sweep = new NpgsqlCommand($"WITH x AS ({PostgresDeleteSweep.SweepSql(destination, table, keys)} RETURNING 1) SELECT count(*)::int FROM x", connection))
        {
            sweep.Parameters.Add(new NpgsqlParameter { Value = fence });
            deleted = (int)(await sweep.ExecuteScalarAsync(cancellationToken))!;
        }

        await using var forget = new NpgsqlCommand($"DELETE FROM {table} WHERE fence <= $1", connection);
        forget.Parameters.Add(new NpgsqlParameter { Value = fence });
        await forget.ExecuteNonQueryAsync(cancellationToken);
        return deleted;
    }

    /// <summary>
    /// Marks the keys of every row of the batch, in the load transaction. When the destination refused
    /// records, the staging table no longer holds the whole batch, so it is copied in again: a refused
    /// record is still in the source, and its destination row must not be swept for its refusal.
    /// </summary>
    internal static async Task MarkAsync(
        NpgsqlConnection connection, string table, MergePlan plan, RecordBatch batch, bool reloadStaging, long fence, CancellationToken cancellationToken)
    {
        if (reloadStaging)
        {
            await using (var clear = new NpgsqlCommand(plan.ClearStaging, connection))
            {
                await clear.ExecuteNonQueryAsync(cancellationToken);
            }

            await using var copy = await connection.BeginRawBinaryCopyAsync(plan.Copy, cancellationToken);
            await copy.WriteAsync(CopyFormat.Header.ToArray(), cancellationToken);
            await copy.WriteAsync(batch.Rows, cancellationToken);
            await copy.WriteAsync(CopyFormat.Trailer.ToArray(), cancellationToken);
        }

        await using var mark = new NpgsqlCommand(
            $"""
            INSERT INTO {table} (fence, {string.Join(", ", plan.KeyValues.Select(k => k.Column))})
            SELECT $1, {string.Join(", ", plan.KeyValues.Select(k => k.Value))} FROM {plan.Staging} s
            ON CONFLICT DO NOTHING
            """,
            connection);
        mark.Parameters.Add(new NpgsqlParameter { Value = fence });
        await mark.ExecuteNonQueryAsync(cancellationToken);
    }
}
