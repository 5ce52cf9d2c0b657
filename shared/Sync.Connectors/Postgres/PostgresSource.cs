using System.Data;
using System.Text;
using Npgsql;
using Sync.Batches;
using Sync.Contracts;
using Sync.Connectors.Resilience;
using Sync.Contracts.Jobs;
using Sync.Jobs;

namespace Sync.Connectors.Postgres;

/// <summary>
/// Reads a PostgreSQL table in (cursor, primary key) order strictly after a position, as binary
/// COPY, and cuts it into batches. One REPEATABLE READ transaction holds the run's snapshot, so
/// the rows and the upper bound are seen at one instant. Opening the connection and reading the
/// bound go through the connection's resilience pipeline; once rows stream, a failure ends the
/// extraction (its batches are already out) and the message's retry starts a new one.
/// </summary>
public sealed class PostgresSource(ConnectionCatalog connections, ConnectorResilience resilience)
{
    /// <summary>Reads every row after <paramref name="after"/> and hands each batch to <paramref name="onBatch"/>, in order.</summary>
    public async Task<ExtractionSummary> ExtractAsync(
        JobSpec job,
        CursorPosition? after,
        Func<RecordBatch, CursorPosition, CancellationToken, ValueTask> onBatch,
        CancellationToken cancellationToken)
    {
        var opened = await resilience.ExecuteAsync(job.Source.Connection, ct => OpenAndReadBoundAsync(job.Source.Connection, ct), cancellationToken);
        await using var connection = opened.Connection;
        var upper = opened.Upper;
        await using var transaction = await connection.BeginTransactionAsync(IsolationLevel.RepeatableRead, cancellationToken);

        IReadOnlyList<TableColumn> table;
        if (job.Source.Query is { } query)
        {
            // The query is the operator's SQL: read-only, so a mistaken one cannot write to the source.
            await using (var readOnly = new NpgsqlCommand("SET TRANSACTION READ ONLY", connection))
            {
                await readOnly.ExecuteNonQueryAsync(cancellationToken);
            }

            table = await PostgresSchema.GetQueryColumnsAsync(connection, query, cancellationToken);
        }
        else
        {
            table = await PostgresSchema.GetColumnsAsync(connection, job.Source.Table, cancellationToken)
                ?? throw new SourceSchemaException($"Source table {job.Source.Table} does not exist.");
        }

        var plan = SourcePlan.Resolve(job.Source, job.Transform, table);
        // A full refresh reads the whole snapshot, unbounded: its rows not read would count as deleted,
        // and what an open transaction commits later comes with the next refresh, which reads it all again.
        var bounded = plan.Columns[0].TypeOid == PgTypes.TimestampTz && job.Mode != SyncMode.FullRefresh;
        if (bounded && !upper.SeesEveryTransaction)
        {
            throw new SourceSchemaException(
                $"The role of connection \"{job.Source.Connection}\" cannot see other roles' open transactions (pg_stat_activity), so a row they commit late could be skipped; " +
                "grant it pg_read_all_stats (GRANT pg_read_all_stats TO <role>).");
        }

        await SetBoundsAsync(connection, after, bounded ? upper.Value : null, job.Source.Lookback, cancellationToken);
        var sql = BuildCopySql(job.Source, plan, after is not null, bounded);

        var summary = new ExtractionSummary();
        var rows = new TupleBuffer();
        var fields = new FieldSlice[plan.Columns.Count];
        var lastTupleStart = 0;
        await using (var stream = await connection.BeginRawBinaryCopyAsync(sql, cancellationToken))
        {
            var reader = new CopyStreamReader(stream);
            while (await reader.ReadAsync(cancellationToken))
            {
                lastTupleStart = rows.Length;
                rows.AppendTuple(reader.Current.Span);
                if (rows.RowCount >= job.BatchSize)
                {
                    await EmitAsync();
                }
            }
        }

        if (rows.RowCount > 0)
        {
            await EmitAsync();
        }

        if (after is not null && job.Source.Lookback > TimeSpan.Zero && summary.High is { } high
            && await LookbackPosition.IsBeforeAsync(connection, plan, high, after, cancellationToken))
        {
            // The window re-read only rows before the watermark (its last row was deleted or moved
            // ahead): the watermark must not move back.
            summary.KeepAtLeast(after);
        }

        await transaction.CommitAsync(cancellationToken);
        return summary;

        async ValueTask EmitAsync()
        {
            var bytes = rows.ToArray();
            var tupleReader = new TupleReader(bytes.AsSpan(lastTupleStart));
            tupleReader.TryRead(fields, out _, out _);
            var position = plan.PositionOf(bytes.AsSpan(lastTupleStart), fields);
            var batch = new RecordBatch(plan.BatchColumns, rows.RowCount, bytes);
            summary.Add(batch.RowCount, position);
            rows.Clear();
            await onBatch(batch, position, cancellationToken);
        }
    }

    private async ValueTask<(NpgsqlConnection Connection, UpperBound Upper)> OpenAndReadBoundAsync(string connectionName, CancellationToken cancellationToken)
    {
        var connection = await connections.Get(connectionName).OpenConnectionAsync(cancellationToken);
        try
        {
            return (connection, await UpperBound.ReadAsync(connection, cancellationToken));
        }
        catch
        {
            await connection.DisposeAsync();
            throw;
        }
    }

    // COPY takes no parameters, so the position and the upper bound travel as transaction-local
    // settings, bound as parameters here and read back with current_setting() by the query: no
    // value is spliced.
    private static async Task SetBoundsAsync(NpgsqlConnection connection, CursorPosition? after, string? upper, TimeSpan lookback, CancellationToken cancellationToken)
    {
        var sql = new StringBuilder("SELECT 1");
        await using var command = new NpgsqlCommand { Connection = connection };
        if (after is not null)
        {
            for (var i = 0; i < after.Values.Count; i++)
            {
                sql.Append($", set_config('sync.after_{i}', ${i + 1}, true)");
                command.Parameters.Add(new NpgsqlParameter { Value = after.Values[i] });
            }
        }

        if (upper is not null)
        {
            sql.Append($", set_config('sync.upper', ${command.Parameters.Count + 1}, true)");
            command.Parameters.Add(new NpgsqlParameter { Value = upper });
        }

        if (after is not null && lookback > TimeSpan.Zero)
        {
            sql.Append($", set_config('sync.lookback', ${command.Parameters.Count + 1}, true)");
            command.Parameters.Add(new NpgsqlParameter { Value = $"{(long)lookback.TotalMilliseconds} milliseconds" });
        }

        command.CommandText = sql.ToString();
        await command.ExecuteNonQueryAsync(cancellationToken);
    }

    internal static string BuildCopySql(SourceSpec source, SourcePlan plan, bool hasAfter, bool bounded)
    {
        var select = string.Join(", ", plan.Columns.Select(c =>
            c.IsBinary ? SqlIdentifier.Quote(c.Name) : $"{SqlIdentifier.Quote(c.Name)}::text"));
        var position = plan.Columns.Take(plan.PositionLength).ToList();
        var orderBy = string.Join(", ", position.Select(c => SqlIdentifier.Quote(c.Name)));
        var where = new List<string>();
        if (hasAfter && source.Lookback > TimeSpan.Zero)
        {
            // Everything stamped within the window before the watermark, again: a client-stamped row
            // that committed after the last run but carries an earlier stamp is read; loading is idempotent.
            var cursor = position[0];
            where.Add($"{SqlIdentifier.Quote(cursor.Name)} >= CAST(current_setting('sync.after_0') AS {PgTypes.SqlName(cursor.TypeOid)}) - CAST(current_setting('sync.lookback') AS interval)");
        }
        else if (hasAfter)
        {
            var values = string.Join(", ", position.Select((c, i) => $"CAST(current_setting('sync.after_{i}') AS {PgTypes.SqlName(c.TypeOid)})"));
            where.Add($"({orderBy}) > ({values})");
        }

        if (bounded)
        {
            where.Add($"{SqlIdentifier.Quote(position[0].Name)} < CAST(current_setting('sync.upper') AS timestamp with time zone)");
        }

        var filter = where.Count == 0 ? string.Empty : " WHERE " + string.Join(" AND ", where);
        return $"COPY (SELECT {select} FROM {PostgresSchema.SourceRelation(source)}{filter} ORDER BY {orderBy}) TO STDOUT (FORMAT BINARY)";
    }
}

/// <summary>What one extraction produced: batch and row counts and the position of the last row.</summary>
public sealed class ExtractionSummary
{
    public int BatchCount { get; private set; }

    public long RowCount { get; private set; }

    public CursorPosition? High { get; private set; }

    internal void Add(int rows, CursorPosition last)
    {
        BatchCount++;
        RowCount += rows;
        High = last;
    }

    internal void KeepAtLeast(CursorPosition position) => High = position;

    /// <summary>A batch of a source whose rows come in no guaranteed order: <paramref name="high"/> is the highest position so far, if any.</summary>
    internal void AddUnordered(int rows, CursorPosition? high)
    {
        BatchCount++;
        RowCount += rows;
        High = high ?? High;
    }
}
