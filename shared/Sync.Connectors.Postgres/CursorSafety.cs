using Npgsql;
using Sync.Batches;
using Sync.Contracts.Jobs;
using Sync.Jobs;

namespace Sync.Connectors.Postgres;

/// <summary>
/// Which <see cref="CursorBound"/> keeps an incremental job's cursor from passing a row that commits
/// late, by the cursor column's type, or why no bound can (issue 13: an integer cursor lost ~15% of
/// late-committing inserts under load before this). Refusals name the column, the reason and the fix.
/// </summary>
public static class CursorSafety
{
    private const uint SmallInt = 21;
    private const uint Integer = 23;
    private const uint BigInt = 20;
    private const uint Numeric = 1700;

    public static CursorBound BoundFor(JobSpec job, SourcePlan plan)
    {
        if (job.Mode != SyncMode.Incremental)
        {
            return CursorBound.None;
        }

        var cursor = plan.Columns[0];
        return cursor.ValueTypeOid switch
        {
            PgTypes.TimestampTz => CursorBound.BeforeOldestTransaction,
            SmallInt or Integer or BigInt or Numeric or PgTypes.Timestamp => CursorBound.SettledMax,
            PgTypes.Date when job.Source.Lookback > TimeSpan.Zero => CursorBound.SettledMax,
            PgTypes.Date => throw new SourceSchemaException(
                $"Cursor \"{cursor.Name}\" of {PostgresSchema.SourceName(job.Source)} is a date: every row of a day shares one value, so a row committed later that day " +
                "with a lower key than the last one read would be skipped. Add source.lookback: 1d (or more) to read the last day again each run, or use a timestamp cursor."),
            _ => throw new SourceSchemaException(
                $"Cursor \"{cursor.Name}\" of {PostgresSchema.SourceName(job.Source)} is {TypeName(cursor.ValueTypeOid)}, whose values do not grow as transactions commit, " +
                "so a watermark on it can pass rows written later. Use a timestamptz column set on every write (e.g. updated_at by a trigger), a timestamp, or a sequence-fed integer, as cursor."),
        };
    }

    /// <summary>
    /// Refuses a cursor fed by a sequence with CACHE &gt; 1: each session hands out values from its own
    /// block, so a value lower than one already committed can be taken at any later time.
    /// </summary>
    public static async Task CheckSequenceAsync(NpgsqlConnection connection, JobSpec job, CancellationToken cancellationToken)
    {
        if (job.Mode != SyncMode.Incremental || job.Source.Query is not null)
        {
            return;
        }

        // The sequences the column owns (serial, identity) and those its default calls (nextval('…')).
        await using var command = new NpgsqlCommand(
            """
            WITH col AS (
                SELECT a.attrelid, a.attnum FROM pg_attribute a
                WHERE a.attrelid = to_regclass($1) AND a.attname = $2 AND NOT a.attisdropped)
            SELECT s.seqrelid::regclass::text, s.seqcache
            FROM pg_sequence s
            WHERE s.seqcache > 1 AND s.seqrelid IN (
                SELECT d.objid FROM pg_depend d JOIN col ON d.refobjid = col.attrelid AND d.refobjsubid = col.attnum
                WHERE d.classid = 'pg_class'::regclass AND d.refclassid = 'pg_class'::regclass AND d.deptype IN ('a', 'i')
                UNION
                SELECT d.refobjid FROM pg_attrdef ad JOIN col ON ad.adrelid = col.attrelid AND ad.adnum = col.attnum
                JOIN pg_depend d ON d.classid = 'pg_attrdef'::regclass AND d.objid = ad.oid AND d.refclassid = 'pg_class'::regclass)
            LIMIT 1
            """,
            connection);
        command.Parameters.Add(new NpgsqlParameter { Value = SqlIdentifier.QuoteQualified(job.Source.Table) });
        command.Parameters.Add(new NpgsqlParameter { Value = job.Source.Cursor });
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        if (await reader.ReadAsync(cancellationToken))
        {
            var sequence = reader.GetString(0);
            throw new SourceSchemaException(
                $"Cursor \"{job.Source.Cursor}\" of {job.Source.Table} comes from sequence {sequence}, which caches {reader.GetInt64(1)} values per session: " +
                $"sessions hand out values out of order, so a watermark on it can pass rows committed later. Run ALTER SEQUENCE {sequence} CACHE 1, or use a timestamptz cursor.");
        }
    }

    private static string TypeName(uint oid) => PgTypes.IsSupported(oid) ? PgTypes.SqlName(oid) : $"type OID {oid}";
}
