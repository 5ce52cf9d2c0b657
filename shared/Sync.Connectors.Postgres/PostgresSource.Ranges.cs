using System.Data;
using Npgsql;
using Sync.Batches;
using Sync.Contracts;
using Sync.Contracts.Jobs;
using Sync.Jobs;

namespace Sync.Connectors.Postgres;

/// <summary>
/// An initial load or full refresh in key ranges (<c>source.range_size</c>, issue 19, item 1). The plan
/// takes the run's cursor bound once, as a read in one would, and the position of the last row under
/// it, which becomes the watermark; each range then reads its keys up to that bound in a snapshot of
/// its own. That is as safe as one snapshot for the modes that allow ranges: under an incremental
/// bound no transaction can still commit a row at or below it (the bound waited for them), so every
/// later snapshot holds the same rows up to it, and a row updated since moves above the watermark,
/// where the next run reads it; a full refresh copies each range as its read saw it.
/// </summary>
public sealed partial class PostgresSource
{
    public async Task<ExtractionPlanned?> PlanRangesAsync(Guid runId, JobSpec job, CancellationToken cancellationToken)
    {
        var prepared = await resilience.ExecuteAsync(job.Source.Connection, ct => PrepareAsync(job, after: null, ct), cancellationToken);
        await using var connection = prepared.Connection;
        var plan = prepared.Plan;
        if (prepared.Bound != CursorBound.None && prepared.Upper is null)
        {
            return null;
        }

        var key = KeyColumn(plan, job.Source);
        await using var transaction = await connection.BeginTransactionAsync(IsolationLevel.RepeatableRead, cancellationToken);
        await SetBoundsAsync(connection, after: null, prepared.Upper, TimeSpan.Zero, cancellationToken);
        long min, max;
        await using (var command = new NpgsqlCommand($"SELECT min({key})::bigint, max({key})::bigint FROM {PostgresSchema.SourceRelation(job.Source)}", connection))
        await using (var reader = await command.ExecuteReaderAsync(cancellationToken))
        {
            await reader.ReadAsync(cancellationToken);
            if (await reader.IsDBNullAsync(0, cancellationToken))
            {
                return null;
            }

            min = reader.GetInt64(0);
            max = reader.GetInt64(1);
        }

        var high = await ReadHighAsync(connection, job.Source, plan, prepared.Bound, cancellationToken);
        await transaction.CommitAsync(cancellationToken);
        return high is null ? null : new ExtractionPlanned(runId, job.Name, job, KeyRangePlan.Plan(min, max, job.Source.RangeSize, prepared.Upper), high);
    }

    // The last row in (cursor, key) order under the bound: the position every range's rows are at or before.
    private static async Task<CursorPosition?> ReadHighAsync(NpgsqlConnection connection, SourceSpec source, SourcePlan plan, CursorBound bound, CancellationToken cancellationToken)
    {
        var position = plan.Columns.Take(plan.PositionLength).ToList();
        var select = string.Join(", ", position.Select(c => SqlIdentifier.Quote(c.Name)));
        var orderBy = string.Join(", ", position.Select(c => SqlIdentifier.Quote(c.Name) + " DESC"));
        var positionPlan = new SourcePlan(position, plan.PositionLength);
        var sql = $"COPY (SELECT {select} FROM {PostgresSchema.SourceRelation(source)}{Where(source, plan, 0, bound, inRange: false)} ORDER BY {orderBy} LIMIT 1) TO STDOUT (FORMAT BINARY)";
        CursorPosition? high = null;
        await using var stream = await connection.BeginRawBinaryCopyAsync(sql, cancellationToken);
        var reader = new CopyStreamReader(stream);
        while (await reader.ReadAsync(cancellationToken))
        {
            var row = reader.Current.ToArray();
            var fields = new FieldSlice[position.Count];
            new TupleReader(row).TryRead(fields, out _, out _);
            high = positionPlan.PositionOf(row, fields);
        }

        return high;
    }

    /// <summary>Throws <see cref="SourceSchemaException"/> when the table cannot be copied in chunks by its key.</summary>
    internal static void CheckChunkKey(SourceSpec source, SourcePlan plan) => _ = KeyColumn(plan, source);

    /// <summary>
    /// One chunk of a cdc job's chunked first copy: the next <paramref name="limit"/> rows in key order,
    /// after the key in the transaction-local setting <c>sync.key_from</c> when <paramref name="hasAfter"/>.
    /// </summary>
    internal static string BuildChunkSql(SourceSpec source, SourcePlan plan, bool hasAfter, long limit)
    {
        var key = KeyColumn(plan, source);
        var where = hasAfter ? $" WHERE {key} > CAST(current_setting('sync.key_from') AS bigint)" : string.Empty;
        return string.Create(
            System.Globalization.CultureInfo.InvariantCulture,
            $"COPY (SELECT {SelectList(plan)} FROM {PostgresSchema.SourceRelation(source)}{where} ORDER BY {key} LIMIT {limit}) TO STDOUT (FORMAT BINARY)");
    }

    private static string KeyColumn(SourcePlan plan, SourceSpec source)
    {
        var key = plan.Columns.Single(c => c.Name == source.PrimaryKey[0]);
        if (source.PrimaryKey.Count != 1 || key.ValueTypeOid is not (KeyTypes.SmallInt or KeyTypes.Integer or KeyTypes.BigInt))
        {
            throw new SourceSchemaException(
                $"source.range_size splits {PostgresSchema.SourceName(source)} by a single smallint, integer or bigint primary key, but \"{key.Name}\" has type OID {key.ValueTypeOid}; " +
                "remove range_size to read the table in one extraction.");
        }

        return SqlIdentifier.Quote(key.Name);
    }

    private static IEnumerable<string> KeyRangeConditions(SourcePlan plan, SourceSpec source, KeyRange range)
    {
        var key = KeyColumn(plan, source);
        if (range.From is not null)
        {
            yield return $"{key} >= CAST(current_setting('sync.key_from') AS bigint)";
        }

        if (range.To is not null)
        {
            yield return $"{key} < CAST(current_setting('sync.key_to') AS bigint)";
        }
    }

    // As the cursor's position, the range's ends travel as transaction-local settings: no value is spliced.
    private static async Task SetKeyRangeAsync(NpgsqlConnection connection, KeyRange range, CancellationToken cancellationToken)
    {
        await using var command = new NpgsqlCommand("SELECT set_config('sync.key_from', coalesce($1, ''), true), set_config('sync.key_to', coalesce($2, ''), true)", connection);
        command.Parameters.Add(new NpgsqlParameter { Value = (object?)range.From ?? DBNull.Value, NpgsqlDbType = NpgsqlTypes.NpgsqlDbType.Text });
        command.Parameters.Add(new NpgsqlParameter { Value = (object?)range.To ?? DBNull.Value, NpgsqlDbType = NpgsqlTypes.NpgsqlDbType.Text });
        await command.ExecuteNonQueryAsync(cancellationToken);
    }

    private static class KeyTypes
    {
        public const uint SmallInt = 21;
        public const uint Integer = 23;
        public const uint BigInt = 20;
    }
}
