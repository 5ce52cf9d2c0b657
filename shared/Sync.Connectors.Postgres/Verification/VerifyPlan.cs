using Sync.Batches;
using Sync.Contracts.Jobs;
using Sync.Jobs;

namespace Sync.Connectors.Postgres.Verification;

/// <summary>
/// How one side of a verification reads its rows, as SQL pieces over its relation: the key and the
/// compared columns in normal form (<see cref="NormalForms"/>), in the destination's key and column
/// order, and the condition that keeps only verifiable rows. Parameters are positional ($1…).
/// </summary>
internal sealed record VerifySide(string Relation, IReadOnlyList<string> Key, IReadOnlyList<string> Columns, string Where, IReadOnlyList<object> Parameters)
{
    public string KeyText => $"ARRAY[{string.Join(", ", Key)}]::text";

    public string ColumnsArray => $"ARRAY[{string.Join(", ", Columns)}]";

    /// <summary>
    /// A 64-bit hash of the row's normal form; the sum of a bucket's detects a changed, missing or
    /// repeated row. hashtextextended, not md5: half the digest's time on 1M rows, and a 64-bit
    /// collision in one bucket of ~256 rows is no practical risk.
    /// </summary>
    public string RowHash => $"hashtextextended({ColumnsArray}::text, 0)";

    public string Bucket(int maskParameter) => $"(hashtextextended({KeyText}, 0) & ${maskParameter})";
}

/// <summary>The compared columns of a job (destination names) and each side's reading of them.</summary>
internal sealed record VerifyPlan(IReadOnlyList<string> KeyColumns, IReadOnlyList<string> Columns, VerifySide Source, VerifySide Destination)
{
    private const uint TimestampTz = 1184;

    /// <summary>
    /// Per key column: the source's is a timestamptz, compared in UTC without a zone. A key reported
    /// to the user and sent to a repair run carries the zone (+00), so the source reads it back as
    /// the same instant whatever its session's time zone.
    /// </summary>
    public IReadOnlyList<bool> KeyInUtc { get; init; } = [];

    /// <summary>Per compared column, the form both sides render it in (a destination outside PostgreSQL renders its own values in .NET).</summary>
    public IReadOnlyList<NormalForm> Forms { get; init; } = [];

    /// <summary>A key as the comparison saw it, as the source reads it back.</summary>
    public string?[] Reported(string?[] key) =>
        [.. key.Select((value, i) => value is not null && i < KeyInUtc.Count && KeyInUtc[i] ? value + "+00" : value)];

    public static VerifyPlan Create(JobSpec job, IReadOnlyList<TableColumn> source, IReadOnlyList<TableColumn> destination, string? watermark)
    {
        var sourceByName = source.ToDictionary(c => c.Name, StringComparer.Ordinal);
        var destinationByName = destination.Where(c => !c.Generated).ToDictionary(c => c.Name, StringComparer.Ordinal);
        var mappings = job.Transform.Columns.Count > 0
            ? job.Transform.Columns
            : [.. source.Where(c => destinationByName.ContainsKey(c.Name)).Select(c => new ColumnMapping(c.Name, c.Name))];

        var columns = new List<(string Target, string SourceSql, uint SourceOid, uint DestinationOid)>();
        var ignored = job.Verify?.Ignore ?? [];
        foreach (var mapping in mappings.Where(m => !ignored.Contains(m.Target, StringComparer.Ordinal)))
        {
            if (!sourceByName.TryGetValue(mapping.Source, out var sourceColumn))
            {
                throw new VerifyRefusedException($"the source has no column \"{mapping.Source}\"");
            }

            if (!destinationByName.TryGetValue(mapping.Target, out var destinationColumn))
            {
                throw new VerifyRefusedException($"the destination has no column \"{mapping.Target}\"");
            }

            var sql = SqlIdentifier.Quote(mapping.Source);
            var oid = sourceColumn.TypeOid;
            if (mapping.Cast is { } cast)
            {
                oid = PgValueCast.TargetOid(cast);
                sql = $"CAST({sql} AS {PgTypes.SqlName(oid)})";
            }

            columns.Add((mapping.Target, sql, oid, destinationColumn.TypeOid));
        }

        var keyIndexes = new List<int>();
        foreach (var key in job.Destination.Key)
        {
            var index = columns.FindIndex(c => c.Target == key);
            if (index < 0)
            {
                throw new VerifyRefusedException($"destination key column \"{key}\" is not among the columns the job writes");
            }

            keyIndexes.Add(index);
        }

        var forms = columns.Select(c => NormalForms.Of(c.SourceOid, c.DestinationOid)).ToList();
        var sourceSql = columns.Select((c, i) => NormalForms.Render(forms[i], c.SourceSql, c.SourceOid)).ToList();
        var destinationSql = columns.Select((c, i) => NormalForms.Render(forms[i], SqlIdentifier.Quote(c.Target), c.DestinationOid)).ToList();

        var sourceWhere = new List<string>();
        var destinationWhere = new List<string>();
        var parameters = new List<object>();
        var destinationParameters = new List<object>();
        if (watermark is not null)
        {
            var cursor = sourceByName.GetValueOrDefault(job.Source.Cursor)
                ?? throw new VerifyRefusedException($"the source has no cursor column \"{job.Source.Cursor}\"");
            parameters.Add(watermark);
            sourceWhere.Add($"{SqlIdentifier.Quote(cursor.Name)} <= CAST($1 AS {PgTypes.SqlName(cursor.TypeOid)})");
            // A destination that carries the cursor leaves out rows a run in flight has already loaded past the watermark.
            var carried = mappings.FirstOrDefault(m => m.Source == cursor.Name && m.Expression is null);
            if (carried is not null && PgTypes.IsSupported(destinationByName[carried.Target].TypeOid))
            {
                destinationParameters.Add(watermark);
                destinationWhere.Add($"{SqlIdentifier.Quote(carried.Target)} <= CAST($1 AS {PgTypes.SqlName(destinationByName[carried.Target].TypeOid)})");
            }
        }

        if (job.Destination is { Deletes: DeleteMode.SoftDelete, SoftDeleteColumn: { } softDelete } && destinationByName.ContainsKey(softDelete))
        {
            destinationWhere.Add($"{SqlIdentifier.Quote(softDelete)} IS NULL");
        }

        return new VerifyPlan(
            job.Destination.Key,
            [.. columns.Select(c => c.Target)],
            new VerifySide(PostgresSchema.SourceRelation(job.Source), [.. keyIndexes.Select(i => sourceSql[i])], sourceSql, Where(sourceWhere), parameters),
            new VerifySide(SqlIdentifier.QuoteQualified(job.Destination.Table), [.. keyIndexes.Select(i => destinationSql[i])], destinationSql, Where(destinationWhere), destinationParameters))
        {
            KeyInUtc = [.. keyIndexes.Select(i => forms[i] == NormalForm.Timestamp && columns[i].SourceOid == TimestampTz)],
            Forms = forms,
        };
    }

    /// <summary>Why a job cannot be verified by comparing SQL, or null.</summary>
    public static string? Refusal(JobSpec job) => VerifyRules.Refusal(job);

    private static string Where(List<string> conditions) => conditions.Count == 0 ? "TRUE" : string.Join(" AND ", conditions);
}

/// <summary>The job cannot be verified; the message completes "cannot verify: …".</summary>
public sealed class VerifyRefusedException(string reason) : Exception($"cannot verify: {reason}")
{
    public string Reason { get; } = reason;
}
