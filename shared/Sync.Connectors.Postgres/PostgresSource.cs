using System.Data;
using System.Diagnostics;
using System.Text;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using Npgsql;
using Sync.Batches;
using Sync.Contracts;
using Sync.Connectors.Resilience;
using Sync.Contracts.Jobs;
using Sync.Jobs;

namespace Sync.Connectors.Postgres;

/// <summary>
/// Reads a PostgreSQL table in (cursor, primary key) order strictly after a position, as binary
/// COPY, and cuts it into batches of at most the job's batch_size rows and batch_bytes bytes
/// (<see cref="BatchCut"/>). One REPEATABLE READ transaction holds the run's snapshot. An
/// incremental run reads no further than its <see cref="CursorBound"/>, taken before that snapshot,
/// so a row that a transaction still open commits later is never behind the watermark. Opening the
/// connection, reading the schema and taking the bound go through the connection's resilience
/// pipeline; once rows stream, a failure ends the extraction (its batches are already out) and the
/// message's retry starts a new one.
/// </summary>
public sealed partial class PostgresSource(ConnectionCatalog connections, ConnectorResilience resilience, IOptions<PostgresSourceOptions>? options = null, ILogger<PostgresSource>? logger = null)
{
    private readonly PostgresSourceOptions _options = options?.Value ?? new PostgresSourceOptions();
    private readonly ILogger _logger = logger ?? NullLogger<PostgresSource>.Instance;

    /// <summary>
    /// Reads every row after <paramref name="after"/> (or, for a backfill, the rows in <paramref name="range"/>)
    /// and hands each batch to <paramref name="onBatch"/>, in order.
    /// </summary>
    public async Task<ExtractionSummary> ExtractAsync(
        JobSpec job,
        CursorPosition? after,
        Func<RecordBatch, CursorPosition, CancellationToken, ValueTask> onBatch,
        CancellationToken cancellationToken,
        CursorRange? range = null,
        KeyRange? keyRange = null)
    {
        // A backfill's slice lies behind the watermark, which it does not move: no bound to take. A key
        // range reads up to the bound its run's plan took once, before the first range's snapshot.
        var prepared = await resilience.ExecuteAsync(
            job.Source.Connection,
            ct => PrepareAsync(range is null ? job : job with { Mode = SyncMode.FullRefresh }, after, ct, takeBound: keyRange is null),
            cancellationToken);
        if (keyRange is not null)
        {
            prepared = prepared with { Upper = keyRange.Upper };
        }

        await using var connection = prepared.Connection;
        var plan = prepared.Plan;
        var summary = new ExtractionSummary();
        if (prepared.Bound != CursorBound.None && prepared.Upper is null)
        {
            // Nothing after the watermark is visible: nothing to read, and the watermark stays.
            return summary;
        }

        await using var transaction = await connection.BeginTransactionAsync(IsolationLevel.RepeatableRead, cancellationToken);
        if (job.Source.Query is not null)
        {
            // The query is the operator's SQL: read-only, so a mistaken one cannot write to the source.
            await SetReadOnlyAsync(connection, cancellationToken);
        }

        await SetBoundsAsync(connection, after, prepared.Upper, job.Source.Lookback, cancellationToken, range);
        if (keyRange is not null)
        {
            await SetKeyRangeAsync(connection, keyRange, cancellationToken);
        }

        var sql = BuildCopySql(job.Source, plan, after?.Values.Count ?? 0, prepared.Bound, range is not null, keyRange);

        var rows = new TupleBuffer();
        var fields = new FieldSlice[plan.Columns.Count];
        var lastTupleStart = 0;
        await CopyBatches.ReadAsync(connection, sql, job, rows, EmitAsync, cancellationToken, start => lastTupleStart = start);

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

    /// <summary>
    /// Opens the connection, resolves the plan against the live schema and takes the run's bound, in
    /// that order and before the run's snapshot (see <see cref="UpperBound"/> for why before).
    /// </summary>
    private async ValueTask<Prepared> PrepareAsync(JobSpec job, CursorPosition? after, CancellationToken cancellationToken, bool takeBound = true)
    {
        var connection = await connections.Get(job.Source.Connection).OpenConnectionAsync(cancellationToken);
        try
        {
            var plan = await ResolvePlanAsync(connection, job, cancellationToken);
            var bound = CursorSafety.BoundFor(job, plan);
            string? upper = null;
            if (!takeBound)
            {
                return new Prepared(connection, plan, bound, upper);
            }

            if (bound == CursorBound.BeforeOldestTransaction)
            {
                var oldest = await UpperBound.ReadAsync(connection, cancellationToken);
                if (!oldest.SeesEveryTransaction)
                {
                    throw new SourceSchemaException(
                        $"The role of connection \"{job.Source.Connection}\" cannot see other roles' open transactions (pg_stat_activity), so a row they commit late could be skipped; " +
                        "grant it pg_read_all_stats (GRANT pg_read_all_stats TO <role>).");
                }

                // A prepared transaction shows in no session's xact_start and may have stamped rows long before it was prepared.
                await SettleAsync(connection, job, onlyPrepared: true, cancellationToken);
                upper = oldest.Value;
            }
            else if (bound == CursorBound.SettledMax)
            {
                await CursorSafety.CheckSequenceAsync(connection, job, cancellationToken);
                // The highest value visible now; every transaction that could still commit a value at or
                // below it is open now (it took its value before this one was committed), so once those
                // have ended a new snapshot holds every row up to it.
                upper = await ReadVisibleMaxAsync(connection, job.Source, plan, after, cancellationToken);
                if (upper is not null)
                {
                    await SettleAsync(connection, job, onlyPrepared: false, cancellationToken);
                }
            }

            return new Prepared(connection, plan, bound, upper);
        }
        catch
        {
            await connection.DisposeAsync();
            throw;
        }
    }

    private static async Task<SourcePlan> ResolvePlanAsync(NpgsqlConnection connection, JobSpec job, CancellationToken cancellationToken)
    {
        IReadOnlyList<TableColumn> table;
        if (job.Source.Query is { } query)
        {
            await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
            await SetReadOnlyAsync(connection, cancellationToken);
            table = await PostgresSchema.GetQueryColumnsAsync(connection, query, cancellationToken);
            await transaction.CommitAsync(cancellationToken);
        }
        else
        {
            table = await PostgresSchema.GetColumnsAsync(connection, job.Source.Table, cancellationToken)
                ?? throw new SourceSchemaException($"Source table {job.Source.Table} does not exist.");
        }

        return SourcePlan.Resolve(job.Source, job.Transform, table);
    }

    private static async Task<string?> ReadVisibleMaxAsync(NpgsqlConnection connection, SourceSpec source, SourcePlan plan, CursorPosition? after, CancellationToken cancellationToken)
    {
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
        await SetReadOnlyAsync(connection, cancellationToken);
        await SetBoundsAsync(connection, after, upper: null, source.Lookback, cancellationToken);
        var cursor = SqlIdentifier.Quote(plan.Columns[0].Name);
        await using var command = new NpgsqlCommand(
            $"SELECT max({cursor})::text FROM {PostgresSchema.SourceRelation(source)}{Where(source, plan, after?.Values.Count ?? 0, CursorBound.None, inRange: false)}",
            connection);
        var max = await command.ExecuteScalarAsync(cancellationToken);
        await transaction.CommitAsync(cancellationToken);
        return max as string;
    }

    private async Task SettleAsync(NpgsqlConnection connection, JobSpec job, bool onlyPrepared, CancellationToken cancellationToken)
    {
        var wait = await OpenTransactions.WaitAsync(connection, _options.OpenTransactionWait, onlyPrepared, cancellationToken);
        if (wait.Transactions > 0)
        {
            Activity.Current?.SetTag("sync.source.waited_transactions", wait.Transactions);
            Activity.Current?.SetTag("sync.source.waited_ms", (long)wait.Waited.TotalMilliseconds);
            LogSettled(job.Name, wait.Transactions, (long)wait.Waited.TotalMilliseconds);
        }
    }

    private static async Task SetReadOnlyAsync(NpgsqlConnection connection, CancellationToken cancellationToken)
    {
        await using var readOnly = new NpgsqlCommand("SET TRANSACTION READ ONLY", connection);
        await readOnly.ExecuteNonQueryAsync(cancellationToken);
    }

    private sealed record Prepared(NpgsqlConnection Connection, SourcePlan Plan, CursorBound Bound, string? Upper);

    [LoggerMessage(Level = LogLevel.Information, Message = "Job {JobName}: waited {WaitedMs} ms for {Transactions} transactions open on the source before reading up to the cursor bound")]
    private partial void LogSettled(string jobName, int transactions, long waitedMs);

    // COPY takes no parameters, so the position and the upper bound travel as transaction-local
    // settings, bound as parameters here and read back with current_setting() by the query: no
    // value is spliced.
    private static async Task SetBoundsAsync(NpgsqlConnection connection, CursorPosition? after, string? upper, TimeSpan lookback, CancellationToken cancellationToken, CursorRange? range = null)
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

        if (range is not null)
        {
            sql.Append($", set_config('sync.from', ${command.Parameters.Count + 1}, true), set_config('sync.to', ${command.Parameters.Count + 2}, true)");
            command.Parameters.Add(new NpgsqlParameter { Value = range.From });
            command.Parameters.Add(new NpgsqlParameter { Value = range.To });
        }

        command.CommandText = sql.ToString();
        await command.ExecuteNonQueryAsync(cancellationToken);
    }

    internal static string BuildCopySql(SourceSpec source, SourcePlan plan, bool hasAfter, CursorBound bound) =>
        BuildCopySql(source, plan, hasAfter ? plan.PositionLength : 0, bound, inRange: false);

    /// <summary>
    /// <paramref name="afterValues"/>: how many values the position read after has (0: none). A watermark
    /// set by hand names only the cursor's value (PUT /api/jobs/{name}/watermark): rows with a greater
    /// cursor are after it, whatever their key.
    /// </summary>
    internal static string BuildCopySql(SourceSpec source, SourcePlan plan, int afterValues, CursorBound bound, bool inRange, KeyRange? keyRange = null)
    {
        var select = SelectList(plan);
        // A key range is read in key order: its run's watermark comes from the plan, not from the
        // range's last row, and the primary key's index then serves the range alone (in cursor order
        // each range scanned the whole cursor index: 2 Extractors took 56 s for 200,000 rows, bench/ranges.sh).
        var orderBy = keyRange is null
            ? string.Join(", ", plan.Columns.Take(plan.PositionLength).Select(c => SqlIdentifier.Quote(c.Name)))
            : KeyColumn(plan, source);
        return $"COPY (SELECT {select} FROM {PostgresSchema.SourceRelation(source)}{Where(source, plan, afterValues, bound, inRange, keyRange)} ORDER BY {orderBy}) TO STDOUT (FORMAT BINARY)";
    }

    /// <summary>Each plan column as the batch carries it: as it is, cast to the type it travels as, or as text.</summary>
    private static string SelectList(SourcePlan plan) => string.Join(", ", plan.Columns.Select(c => c switch
    {
        { IsBinary: false } => $"{SqlIdentifier.Quote(c.Name)}::text",
        { CarriedAs: { } carried } when carried != c.TypeOid => $"CAST({SqlIdentifier.Quote(c.Name)} AS {PgTypes.SqlName(carried)})",
        _ => SqlIdentifier.Quote(c.Name),
    }));

    private static string Where(SourceSpec source, SourcePlan plan, int afterValues, CursorBound bound, bool inRange, KeyRange? keyRange = null)
    {
        var position = plan.Columns.Take(plan.PositionLength).ToList();
        var cursor = SqlIdentifier.Quote(position[0].Name);
        var where = new List<string>();
        if (keyRange is not null)
        {
            where.AddRange(KeyRangeConditions(plan, source, keyRange));
        }

        var hasAfter = afterValues > 0;
        if (inRange)
        {
            var type = PgTypes.SqlName(position[0].ValueTypeOid);
            where.Add($"{cursor} >= CAST(current_setting('sync.from') AS {type}) AND {cursor} < CAST(current_setting('sync.to') AS {type})");
        }
        else if (hasAfter && source.Lookback > TimeSpan.Zero)
        {
            // Everything stamped within the window before the watermark, again: a client-stamped row
            // that committed after the last run but carries an earlier stamp is read; loading is idempotent.
            where.Add($"{cursor} >= CAST(current_setting('sync.after_0') AS {PgTypes.SqlName(position[0].ValueTypeOid)}) - CAST(current_setting('sync.lookback') AS interval)");
        }
        else if (hasAfter)
        {
            var compared = position.Take(Math.Min(afterValues, position.Count)).ToList();
            var keys = string.Join(", ", compared.Select(c => SqlIdentifier.Quote(c.Name)));
            var values = string.Join(", ", compared.Select((c, i) => $"CAST(current_setting('sync.after_{i}') AS {PgTypes.SqlName(c.ValueTypeOid)})"));
            where.Add($"({keys}) > ({values})");
        }

        switch (bound)
        {
            case CursorBound.BeforeOldestTransaction:
                where.Add($"{cursor} < CAST(current_setting('sync.upper') AS timestamp with time zone)");
                break;
            case CursorBound.SettledMax:
                where.Add($"{cursor} <= CAST(current_setting('sync.upper') AS {PgTypes.SqlName(position[0].ValueTypeOid)})");
                break;
        }

        return where.Count == 0 ? string.Empty : " WHERE " + string.Join(" AND ", where);
    }
}
