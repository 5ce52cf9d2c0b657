using System.Data.Common;
using System.Text.Json;
using DuckDB.NET.Data;
using Sync.Contracts;
using Sync.Contracts.Jobs;
using Sync.Jobs;

namespace Sync.Connectors.DuckDb;

/// <summary>
/// Loads a batch into a DuckDB file (<c>type: duckdb</c>): the rows go through DuckDB's appender into a
/// temporary staging table, then one <c>INSERT … ON CONFLICT (key) DO UPDATE … WHERE …</c> (the job's
/// conflict strategy) merges them, and the batch is recorded in <c>sync.applied_batches</c> in the same
/// transaction, after the run's fence is checked against <c>sync.job_fences</c>. A batch applied before
/// reports its first counts. The table is created from the batch schema, with the key as primary key,
/// when it does not exist, and evolved under the job's schema contract (<see cref="DuckDbTable"/>).
/// </summary>
public sealed class DuckDbDestination(DuckDbConnections connections) : IDestination
{
    private const string Staging = "sync_staging";

    // The staging row's position in the batch, appended with it: a key the batch repeats keeps its
    // last row. A space is in no job's column name (SqlIdentifier admits none), so it cannot collide.
    private const string Ordinal = "\"sync ordinal\"";

    public async Task<LoadResult> LoadAsync(BatchToLoad load, CancellationToken cancellationToken)
    {
        var (job, runId, extractionId, batchSeq, batch, fence, _) = load;
        var rows = TypedRows.Decode(batch);
        using var lease = await connections.AcquireAsync(job.Destination.Connection, cancellationToken);
        try
        {
            return await LoadAsync(lease.Connection, job, runId, extractionId, batchSeq, rows, fence, cancellationToken);
        }
        catch (Exception exception) when (exception is not DestinationSchemaException)
        {
            // A failed statement can leave DuckDB's connection in an aborted transaction: start afresh next time.
            lease.Reset();
            throw;
        }
    }

    private static async Task<LoadResult> LoadAsync(
        DuckDBConnection connection, JobSpec job, Guid runId, Guid extractionId, int batchSeq, TypedRows rows, long fence, CancellationToken cancellationToken)
    {
        await DuckDbMigrator.EnsureAsync(connection, cancellationToken);
        var table = job.Destination.Table;
        var target = SqlIdentifier.QuoteQualified(table.Contains('.', StringComparison.Ordinal) ? table : $"main.{table}");
        foreach (var key in job.Destination.Key.Where(k => rows.Columns.All(c => c.Name != k)))
        {
            throw new DestinationSchemaException($"The batch has no column \"{key}\" of destination.key; map it under columns:.");
        }

        var fit = await DuckDbTable.FitAsync(connection, job.Destination, rows, cancellationToken);
        var changes = fit.Changes.ToList();
        if (fit.Unknown.Count > 0 && job.Destination.Schema == SchemaContract.DiscardRow)
        {
            var unknown = fit.Unknown.Select(u => rows.Columns.ToList().FindIndex(c => c.Name == u)).ToArray();
            var before = rows.Rejected.Count;
            rows = rows.SetAside(values => unknown.Where(u => values[u] is not null).Select(u => $"\"{rows.Columns[u].Name}\"").ToList() is { Count: > 0 } valued
                ? $"destination.schema: discard_row: destination table {table} has no column {string.Join(", ", valued)}"
                : null);
            if (rows.Rejected.Count > before)
            {
                changes.AddRange(fit.Unknown.Select(c => $"set aside rows with a value in column \"{c}\" (destination.schema: discard_row)"));
            }
        }
        else if (fit.Unknown.Count > 0)
        {
            changes.AddRange(fit.Unknown.Select(c => $"discarded the values of column \"{c}\" (destination.schema: discard_value)"));
        }

        var columns = rows.Columns.Select((c, i) => $"{SqlIdentifier.Quote(c.Name)} {DuckDbTypes.For(rows.Types[i], c.TypeOid)}").ToList();
        var written = rows.Columns.Select(c => c.Name).Where(n => !fit.Unknown.Contains(n)).ToList();

        // Staging is temporary (this connection only) and filled before the transaction starts.
        await ExecuteAsync(connection, $"CREATE OR REPLACE TEMP TABLE {Staging} ({string.Join(", ", columns)}, {Ordinal} BIGINT)", cancellationToken);
        Append(connection, rows);

        await ExecuteAsync(connection, "BEGIN TRANSACTION", cancellationToken);
        try
        {
            if (await DuckDbBookkeeping.IsSupersededAsync(connection, job.Name, fence, cancellationToken))
            {
                await ExecuteAsync(connection, "ROLLBACK", cancellationToken);
                return new LoadResult(0, 0, 0, 0, Replayed: false, [], Superseded: true);
            }

            if (await DuckDbBookkeeping.FindAsync(connection, job.Name, runId, extractionId, batchSeq, cancellationToken) is { } applied)
            {
                await ExecuteAsync(connection, "ROLLBACK", cancellationToken);
                return applied with { Replayed = true };
            }

            foreach (var ddl in fit.Ddl)
            {
                await ExecuteAsync(connection, ddl, cancellationToken);
            }

            var keyList = string.Join(", ", job.Destination.Key.Select(SqlIdentifier.Quote));
            var keyMatch = string.Join(" AND ", job.Destination.Key.Select(k => $"t.{SqlIdentifier.Quote(k)} = s.{SqlIdentifier.Quote(k)}"));
            var staged = await ScalarAsync(connection, $"SELECT count(DISTINCT ({keyList})) FROM {Staging}", cancellationToken);
            var matched = await ScalarAsync(
                connection, $"SELECT count(*) FROM {target} t WHERE EXISTS (SELECT 1 FROM {Staging} s WHERE {keyMatch})", cancellationToken);
            var affected = await ExecuteAsync(connection, MergeSql(job, written, target, keyList), cancellationToken);
            var inserted = (int)(staged - matched);
            var updated = affected - inserted;
            var result = new LoadResult(
                rows.Rows.Count, inserted, updated, rows.Rows.Count - inserted - updated, Replayed: false, rows.Rejected, SchemaChanges: changes.Count == 0 ? null : changes);
            await DuckDbBookkeeping.RecordAsync(connection, job.Name, runId, extractionId, batchSeq, result, cancellationToken);
            await ExecuteAsync(connection, "COMMIT", cancellationToken);
            return result;
        }
        catch (Exception failure)
        {
            await RollbackAfterAsync(connection, failure);
            throw;
        }
    }

    // The first error is the one to report; a rollback that fails too (the transaction already ended)
    // is attached to it, and the caller drops the connection.
    internal static async Task RollbackAfterAsync(DuckDBConnection connection, Exception failure)
    {
        try
        {
            await ExecuteAsync(connection, "ROLLBACK", CancellationToken.None);
        }
        catch (DuckDBException rollback)
        {
            failure.Data["RollbackError"] = rollback.Message;
        }
    }

    // One row per key, the batch's last (as the PostgreSQL destination does): DuckDB too refuses to
    // update a row twice in one statement, and ordering by the cursor left ties (and jobs without a
    // cursor column) to an arbitrary row.
    internal static string MergeSql(JobSpec job, IReadOnlyList<string> columns, string target, string keyList)
    {
        var names = columns.Select(SqlIdentifier.Quote).ToList();
        var nonKey = columns.Where(n => !job.Destination.Key.Contains(n)).Select(SqlIdentifier.Quote).ToList();
        var cursor = columns.Any(c => c == JobColumns.CursorTarget(job)) ? SqlIdentifier.Quote(JobColumns.CursorTarget(job)) : null;
        var insert = $"INSERT INTO {target} ({string.Join(", ", names)}) SELECT {string.Join(", ", names)} FROM {Staging} " +
            $"QUALIFY row_number() OVER (PARTITION BY {keyList} ORDER BY {Ordinal} DESC) = 1 ON CONFLICT ({keyList}) ";
        if (nonKey.Count == 0 || job.Destination.Conflict == ConflictStrategy.DestinationWins)
        {
            return insert + "DO NOTHING";
        }

        // Inside DO UPDATE an unqualified column is the existing row's, EXCLUDED.column the incoming one.
        return job.Destination.Conflict switch
        {
            ConflictStrategy.Merge =>
                insert + $"DO UPDATE SET {string.Join(", ", nonKey.Select(c => $"{c} = COALESCE(EXCLUDED.{c}, {c})"))} " +
                $"WHERE {string.Join(" OR ", nonKey.Select(c => $"COALESCE(EXCLUDED.{c}, {c}) IS DISTINCT FROM {c}"))}",
            ConflictStrategy.LatestWins when cursor is not null =>
                insert + $"DO UPDATE SET {string.Join(", ", nonKey.Select(c => $"{c} = EXCLUDED.{c}"))} " +
                $"WHERE EXCLUDED.{cursor} > {cursor} OR ({cursor} IS NULL AND EXCLUDED.{cursor} IS NOT NULL)",
            _ =>
                insert + $"DO UPDATE SET {string.Join(", ", nonKey.Select(c => $"{c} = EXCLUDED.{c}"))} " +
                $"WHERE {string.Join(" OR ", nonKey.Select(c => $"EXCLUDED.{c} IS DISTINCT FROM {c}"))}",
        };
    }

    private static void Append(DuckDBConnection connection, TypedRows rows)
    {
        using var appender = connection.CreateAppender("temp", "main", Staging);
        var ordinal = 0L;
        foreach (var values in rows.Rows)
        {
            var row = appender.CreateRow();
            foreach (var value in values)
            {
                _ = value switch
                {
                    null => row.AppendNullValue(),
                    bool v => row.AppendValue(v),
                    short v => row.AppendValue(v),
                    int v => row.AppendValue(v),
                    long v => row.AppendValue(v),
                    float v => row.AppendValue(v),
                    double v => row.AppendValue(v),
                    decimal v => row.AppendValue(v),
                    string v => row.AppendValue(v),
                    byte[] v => row.AppendValue(v),
                    DateOnly v => row.AppendValue(v),
                    TimeOnly v => row.AppendValue(v),
                    DateTime v => row.AppendValue(v),
                    _ => throw new NotSupportedException($"No DuckDB appender mapping for {value.GetType()}."),
                };
            }

            row.AppendValue(ordinal++).EndRow();
        }
    }

    internal static async Task<int> ExecuteAsync(DuckDBConnection connection, string sql, CancellationToken cancellationToken, params object?[] parameters)
    {
        await using var command = Command(connection, sql, parameters);
        return await command.ExecuteNonQueryAsync(cancellationToken);
    }

    internal static async Task<long> ScalarAsync(DuckDBConnection connection, string sql, CancellationToken cancellationToken, params object?[] parameters)
    {
        await using var command = Command(connection, sql, parameters);
        return Convert.ToInt64(await command.ExecuteScalarAsync(cancellationToken), System.Globalization.CultureInfo.InvariantCulture);
    }

    internal static DbCommand Command(DuckDBConnection connection, string sql, object?[] parameters)
    {
        var command = connection.CreateCommand();
        command.CommandText = sql;
        foreach (var parameter in parameters)
        {
            command.Parameters.Add(new DuckDBParameter(parameter ?? DBNull.Value));
        }

        return command;
    }

    internal static string RejectedJson(IReadOnlyList<RowRejection> rejected) => JsonSerializer.Serialize(rejected);
}
