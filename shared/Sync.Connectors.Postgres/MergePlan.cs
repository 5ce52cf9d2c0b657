using System.Security.Cryptography;
using System.Text;
using Sync.Batches;
using Sync.Contracts;
using Sync.Contracts.Jobs;
using Sync.Jobs;

namespace Sync.Connectors.Postgres;

/// <summary>
/// The SQL that loads batches of one shape into one destination table: a staging table typed like
/// the batch, the COPY into it, and the INSERT … ON CONFLICT merge. Built once per shape from
/// identifiers that were validated and quoted, and from type names out of the catalog or
/// <see cref="PgTypes"/>.
/// </summary>
public sealed class MergePlan
{
    // The staging table's row number in COPY order (an identity column the COPY leaves out, so the
    // batch's tuples still go in as they are; COPY reads and numbers its rows in input order). A
    // space is in no job's column name (SqlIdentifier admits none), so it cannot collide. The
    // temporary table's sequence serves one session, so caching values loses nothing; uncached,
    // nextval made a binary COPY of 200,000 orders rows about 25% slower, cached it costs nothing measurable.
    private const string Ordinal = "\"sync ordinal\"";

    private MergePlan(string createStaging, string copy, string merge, string clearStaging)
    {
        CreateStaging = createStaging;
        ClearStaging = clearStaging;
        Copy = copy;
        Merge = merge;
    }

    public string CreateStaging { get; }

    /// <summary>The staging table's quoted name.</summary>
    public string Staging { get; private init; } = string.Empty;

    /// <summary>The destination key columns (quoted) and the staging expressions of their values, as the merge writes them.</summary>
    public IReadOnlyList<(string Column, string Value)> KeyValues { get; private init; } = [];

    public string Copy { get; }

    /// <summary>Empties the staging table inside the transaction, between the row ranges of an isolation.</summary>
    public string ClearStaging { get; }

    /// <summary>
    /// Returns one row: inserted, updated. Of the rows of one key it applies only the last one staged;
    /// the others are neither, so they count as skipped.
    /// </summary>
    public string Merge { get; }

    /// <summary>
    /// <see cref="Merge"/> for a batch that repeats no key (<see cref="BatchKeys.AreDistinct"/>): without
    /// the DISTINCT ON that keeps a repeated key's last row, which sorts the batch and took about 12%
    /// of the merge of 40 batches of 5,000 orders rows (issue 16). Null when the key is not one column
    /// of a type whose equal values have one binary form, written as staged (no cast).
    /// </summary>
    public string? MergeOfDistinctKeys { get; private init; }

    /// <summary>The number of fields in each of the batch's tuples.</summary>
    public int ColumnCount { get; private init; }

    /// <summary>The batch column indexes of the destination key, in key order.</summary>
    public IReadOnlyList<int> KeyIndexes { get; private init; } = [];

    /// <summary>
    /// The destination is a partitioned table, whose merge counts inserts against the transaction's
    /// snapshot: load it in a REPEATABLE READ transaction (see <see cref="Create"/>).
    /// </summary>
    public bool Partitioned { get; private init; }

    /// <summary>Deletes (or soft-deletes) the destination rows whose keys are in the staging table; returns one row: the count.</summary>
    public string Delete { get; private init; } = string.Empty;

    /// <summary>The batch columns the destination lacks, staged but not written (a discard schema contract).</summary>
    public IReadOnlyList<string> Unknown { get; private init; } = [];

    /// <summary>Deletes (or soft-deletes) every destination row, for a TRUNCATE of a cdc source; returns one row: the count.</summary>
    public string DeleteAll { get; private init; } = string.Empty;

    /// <param name="ignoreUnknown">Stage but do not write the batch columns the destination lacks (destination.schema: discard_row or discard_value).</param>
    public static MergePlan Create(DestinationSpec destination, string cursorTarget, IReadOnlyList<BatchColumn> columns, IReadOnlyList<TableColumn> table, bool partitioned = false, bool ignoreUnknown = false)
    {
        var byName = table.ToDictionary(c => c.Name, StringComparer.Ordinal);
        foreach (var column in columns)
        {
            if (!byName.ContainsKey(column.Name) && !ignoreUnknown)
            {
                throw new DestinationSchemaException($"Destination table {destination.Table} has no column \"{column.Name}\".");
            }
        }

        foreach (var key in destination.Key)
        {
            if (!columns.Any(c => c.Name == key))
            {
                throw new DestinationSchemaException($"Key column \"{key}\" of {destination.Table} is not among the columns the job writes.");
            }
        }

        var staging = StagingName(destination.Table, columns);
        var quoted = columns.Select(c => SqlIdentifier.Quote(c.Name)).ToList();
        var createStaging = $"CREATE TEMP TABLE IF NOT EXISTS {staging} ({string.Join(", ", columns.Select((c, i) => $"{quoted[i]} {PgTypes.SqlName(c.TypeOid)}"))}, {Ordinal} bigint GENERATED ALWAYS AS IDENTITY (CACHE 10000)) ON COMMIT DELETE ROWS";
        var copy = $"COPY {staging} ({string.Join(", ", quoted)}) FROM STDIN (FORMAT BINARY)";

        // A generated destination column computes its own value; writing one is refused (428C9) on every attempt.
        var written = Enumerable.Range(0, columns.Count).Where(i => byName.TryGetValue(columns[i].Name, out var d) && !d.Generated).ToList();
        var values = written.Select(i => byName[columns[i].Name].TypeOid == columns[i].TypeOid
            ? $"s.{quoted[i]}"
            : $"CAST(s.{quoted[i]} AS {byName[columns[i].Name].TypeName})").ToList();
        var keys = string.Join(", ", destination.Key.Select(SqlIdentifier.Quote));
        var nonKeys = written.Where(i => !destination.Key.Contains(columns[i].Name)).Select(i => quoted[i]).ToList();
        // A soft-deleted row the source has again comes back: the upsert clears its stamp, whatever the strategy.
        var softDelete = destination.Deletes == DeleteMode.SoftDelete && destination.SoftDeleteColumn is { } sd && !columns.Any(c => c.Name == sd)
            ? SqlIdentifier.Quote(sd)
            : null;
        var revive = softDelete is null ? string.Empty : $", {softDelete} = NULL";
        var revived = softDelete is null ? string.Empty : $" OR d.{softDelete} IS NOT NULL";
        // json, xml and point have no equality operator (42883 "operator does not exist: json = json"),
        // so the row comparison compares their text: a change in a json value's spacing is a change.
        var byText = written.Where(i => byName[columns[i].Name].TypeOid is 114 or 199 or 142 or 143 or 600 or 1017).Select(i => quoted[i]).ToHashSet();
        var onConflict = destination.Conflict switch
        {
            _ when softDelete is not null && (nonKeys.Count == 0 || destination.Conflict == ConflictStrategy.DestinationWins) =>
                $"DO UPDATE SET {softDelete} = NULL WHERE d.{softDelete} IS NOT NULL",
            _ when nonKeys.Count == 0 => "DO NOTHING",
            ConflictStrategy.DestinationWins => "DO NOTHING",
            ConflictStrategy.SourceWins => UpdateWhereChanged(nonKeys, c => $"EXCLUDED.{c}", byText, revive, revived),
            ConflictStrategy.Merge => UpdateWhereChanged(nonKeys, c => $"COALESCE(EXCLUDED.{c}, d.{c})", byText, revive, revived),
            _ => $"DO UPDATE SET {Assignments(nonKeys)}{revive} WHERE d.{SqlIdentifier.Quote(cursorTarget)} < EXCLUDED.{SqlIdentifier.Quote(cursorTarget)} OR d.{SqlIdentifier.Quote(cursorTarget)} IS NULL{revived}",
        };
        var keyIndexes = destination.Key.Select(k => columns.ToList().FindIndex(c => c.Name == k)).ToList();
        var keyValues = destination.Key.Select((k, i) => (Column: SqlIdentifier.Quote(k), Value: values[written.IndexOf(keyIndexes[i])])).ToList();
        var target = SqlIdentifier.QuoteQualified(destination.Table);

        // ON CONFLICT DO UPDATE refuses to touch a row twice in one statement (21000), so a key the
        // batch repeats keeps only its last row, by the staging ordinal. A row with a null key field
        // is kept apart, as a unique index keeps it (nulls are distinct there).
        var keyExpressions = keyValues.Select(k => k.Value).ToList();
        var distinct = string.Join(", ", [
            .. keyExpressions,
            $"CASE WHEN {string.Join(" OR ", keyExpressions.Select(k => $"{k} IS NULL"))} THEN s.{Ordinal} END",
        ]);
        // The kept rows go in in batch order: a non-deferrable unique index is checked row by row as
        // each is written, so `UPDATE id=2 email x→y` then `INSERT id=1 email x` passes a secondary
        // unique index on email only if id 2 is written first (issue 14, item 5). The executor feeds
        // INSERT … SELECT in the order of the SELECT's ORDER BY.
        string Insert(string rows) => $"""
            INSERT INTO {target} AS d ({string.Join(", ", written.Select(i => quoted[i]))})
                SELECT {string.Join(", ", values)}
                FROM {rows} s
                ORDER BY s.{Ordinal}
                ON CONFLICT ({keys}) {onConflict}
            """;
        var distinctKeys = keyIndexes is [var only] && BatchKeys.HasExactBinaryEquality(columns[only].TypeOid) && byName[columns[only].Name].TypeOid == columns[only].TypeOid;

        // A plain table tells an inserted row from an updated one by xmax = 0: exact under READ
        // COMMITTED, and no second index lookup per row (with one, the merge of 1,000,000 orders rows
        // in batches of 5,000 took about 1.5 times as long). A partitioned table cannot return a
        // system column (0A000, issue 13). There the returned keys are looked up in the table as the
        // statement's snapshot has it, which does not include the statement's own writes (PostgreSQL:
        // "all the statements are executed with the same snapshot"): a key found there was updated.
        // Under READ COMMITTED a key another transaction commits while the merge waits on it is in no
        // snapshot and would count as inserted (seen on PostgreSQL 15); REPEATABLE READ makes that a
        // serialization failure (40001), and the load is retried as a whole.
        string Merge(string insert) => partitioned
            ? $"""
                WITH m AS (
                    {insert}
                    RETURNING {string.Join(", ", destination.Key.Select(k => $"d.{SqlIdentifier.Quote(k)}"))})
                SELECT count(*) FILTER (WHERE NOT e.existed)::int, count(*) FILTER (WHERE e.existed)::int
                FROM (SELECT EXISTS (SELECT 1 FROM {target} x WHERE {string.Join(" AND ", destination.Key.Select(k => $"x.{SqlIdentifier.Quote(k)} = m.{SqlIdentifier.Quote(k)}"))}) AS existed FROM m) e
                """
            : $"""
                WITH m AS (
                    {insert}
                    RETURNING (xmax = 0) AS inserted)
                SELECT count(*) FILTER (WHERE inserted)::int, count(*) FILTER (WHERE NOT inserted)::int FROM m
                """;
        return new MergePlan(createStaging, copy, Merge(Insert($"(SELECT DISTINCT ON ({distinct}) * FROM {staging} s ORDER BY {distinct}, s.{Ordinal} DESC)")), $"DELETE FROM {staging}")
        {
            MergeOfDistinctKeys = distinctKeys ? Merge(Insert(staging)) : null,
            ColumnCount = columns.Count,
            Staging = staging,
            KeyValues = keyValues,
            KeyIndexes = keyIndexes,
            Partitioned = partitioned,
            Unknown = [.. columns.Where(c => !byName.ContainsKey(c.Name)).Select(c => c.Name)],
            Delete = DeleteSql(destination, staging, columns, byName),
            DeleteAll = DeleteAllSql(destination),
        };
    }

    private static string DeleteSql(DestinationSpec destination, string staging, IReadOnlyList<BatchColumn> columns, Dictionary<string, TableColumn> byName)
    {
        var match = string.Join(" AND ", destination.Key.Select(k =>
        {
            var column = columns.First(c => c.Name == k);
            var value = byName[k].TypeOid == column.TypeOid ? $"s.{SqlIdentifier.Quote(k)}" : $"CAST(s.{SqlIdentifier.Quote(k)} AS {byName[k].TypeName})";
            return $"d.{SqlIdentifier.Quote(k)} = {value}";
        }));
        var table = SqlIdentifier.QuoteQualified(destination.Table);
        if (destination.Deletes != DeleteMode.SoftDelete)
        {
            return $"WITH x AS (DELETE FROM {table} AS d USING {staging} s WHERE {match} RETURNING 1) SELECT count(*)::int FROM x";
        }

        var column = destination.SoftDeleteColumn!;
        if (!byName.TryGetValue(column, out var soft) || soft.TypeOid is not (PgTypes.TimestampTz or PgTypes.Timestamp))
        {
            throw new DestinationSchemaException($"Destination table {destination.Table} has no timestamptz column \"{column}\" for soft_delete_column; add it (ALTER TABLE … ADD COLUMN {column} timestamptz).");
        }

        var quoted = SqlIdentifier.Quote(column);
        return $"WITH x AS (UPDATE {table} AS d SET {quoted} = now() FROM {staging} s WHERE {match} AND d.{quoted} IS NULL RETURNING 1) SELECT count(*)::int FROM x";
    }

    private static string DeleteAllSql(DestinationSpec destination)
    {
        var table = SqlIdentifier.QuoteQualified(destination.Table);
        if (destination.Deletes != DeleteMode.SoftDelete || destination.SoftDeleteColumn is not { } column)
        {
            return $"WITH x AS (DELETE FROM {table} RETURNING 1) SELECT count(*)::int FROM x";
        }

        var quoted = SqlIdentifier.Quote(column);
        return $"WITH x AS (UPDATE {table} SET {quoted} = now() WHERE {quoted} IS NULL RETURNING 1) SELECT count(*)::int FROM x";
    }

    private static string Assignments(IEnumerable<string> columns) => string.Join(", ", columns.Select(c => $"{c} = EXCLUDED.{c}"));

    // Rows the new values would leave as they are are skipped, not rewritten (no dead tuple, counted as skipped).
    private static string UpdateWhereChanged(IReadOnlyList<string> columns, Func<string, string> newValue, HashSet<string> byText, string revive = "", string revived = "")
    {
        return $"DO UPDATE SET {string.Join(", ", columns.Select(c => $"{c} = {newValue(c)}"))}{revive} " +
            $"WHERE ({string.Join(", ", columns.Select(c => Compared(c, $"d.{c}")))}) IS DISTINCT FROM ({string.Join(", ", columns.Select(c => Compared(c, newValue(c))))}){revived}";

        string Compared(string column, string value) => byText.Contains(column) ? $"({value})::text" : value;
    }

    // One staging table per destination and batch shape, kept on the pooled connection.
    private static string StagingName(string table, IReadOnlyList<BatchColumn> columns)
    {
        var shape = table + "|" + string.Join("|", columns.Select(c => $"{c.Name}:{c.TypeOid}"));
        var hash = Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(shape)).AsSpan(0, 8));
        return SqlIdentifier.Quote($"sync_stage_{hash}");
    }
}
