using Sync.Contracts.Jobs;

namespace Sync.Jobs;

internal static class DestinationSection
{
    public static readonly string[] Keys = ["type", "connection", "table", "key", "conflict", "truncate", "schema", .. DeletesSection.Keys, .. S3DestinationSection.Keys, .. CodeDestinationSection.Keys];

    /// <param name="columns">The valid column mapping (empty = same names), or null when it has errors.</param>
    public static DestinationSpec? Read(YamlNodeReader job, JobFileErrors errors, SourceDraft? source, IReadOnlyList<ColumnMapping>? columns, SyncMode mode = SyncMode.Incremental)
    {
        var destination = job.Mapping("destination", Keys, required: true);
        if (destination is null)
        {
            return null;
        }

        var kind = destination.Scalar("type", "postgres", required: true) is { } type
            && FieldRules.Choice(type, errors, Kinds.Destinations, out var known) ? known : (DestinationKind?)null;
        var word = Kinds.Word(Kinds.Destinations, kind ?? DestinationKind.Postgres);
        if (kind == DestinationKind.Code)
        {
            return CodeDestinationSection.Read(destination, errors, source, DefaultKey(source, columns));
        }

        CodeDestinationSection.RefuseKeys(destination, errors, word);
        var connection = destination.Scalar("connection", "destination_db", required: true) is { } name
            ? ConnectionRules.Name(name, errors, "destination")
            : null;
        if (kind is DestinationKind.S3 or DestinationKind.DuckDb && source?.Mode == SyncMode.Cdc && destination.Has("type"))
        {
            errors.Add(destination.KeyMark("type"), destination.FieldOf("type"), $"a cdc job cannot load into a {word} destination: only the PostgreSQL destination applies the deletes it streams",
                "use type: postgres, or read the source with mode: incremental");
        }

        if (kind is DestinationKind.S3 or DestinationKind.DuckDb)
        {
            // The delete sweep is one PostgreSQL statement; objects and DuckDB files have no such step.
            foreach (var field in DeletesSection.Keys.Where(destination.Has))
            {
                errors.Add(destination.KeyMark(field), destination.FieldOf(field), $"does not apply to a {word} destination: rows gone from the source are only removed from PostgreSQL destinations",
                    "remove it, or load into a type: postgres destination");
            }
        }

        if (kind == DestinationKind.S3 && destination.Has("schema"))
        {
            errors.Add(destination.KeyMark("schema"), destination.FieldOf("schema"), "does not apply to an s3 destination: objects have no table to create or evolve",
                "remove it, or load into a type: postgres or type: duckdb destination");
        }

        if (kind == DestinationKind.S3)
        {
            return S3DestinationSection.Read(destination, errors, connection, DefaultKey(source, columns));
        }

        S3DestinationSection.RefuseKeys(destination, errors, word);
        var table = destination.Scalar("table", "public.orders_copy", required: true) is { } t ? FieldRules.Table(t, errors) : null;
        var cdc = source?.Mode == SyncMode.Cdc;
        var conflict = cdc ? ConflictStrategy.SourceWins : ConflictStrategy.LatestWins;
        var conflictValid = destination.Scalar("conflict", "latest-wins") is not { } c
            || (FieldRules.Choice(c, errors, Kinds.Conflicts, out conflict) && CdcDestinationRules.Conflict(c, errors, source, conflict));
        var key = destination.Has("key") ? ExplicitKey(destination, errors, columns) : DefaultKey(source, columns);
        var deletes = DeletesSection.Read(destination, errors, mode, cdc);
        var truncateValid = ReadTruncate(destination, errors, cdc, out var truncate);
        var schema = SchemaContract.Evolve;
        var schemaValid = destination.Scalar("schema", "evolve") is not { } contract || FieldRules.Choice(contract, errors, Kinds.SchemaContracts, out schema);
        return kind is not { } k || connection is null || table is null || key is null || !conflictValid || deletes is not { } d || !truncateValid || !schemaValid
            ? null
            : new DestinationSpec(k, connection, table, key, conflict, d.Deletes, d.SoftDeleteColumn, d.AllowEmpty, Truncate: truncate, Schema: schema);
    }

    private static readonly IReadOnlyDictionary<string, TruncateMode> TruncateModes = new Dictionary<string, TruncateMode>(StringComparer.Ordinal)
    {
        ["apply"] = TruncateMode.Apply,
        ["ignore"] = TruncateMode.Ignore,
    };

    // destination.truncate: what a TRUNCATE of a cdc source table does (apply, the default, or ignore).
    private static bool ReadTruncate(YamlNodeReader destination, JobFileErrors errors, bool cdc, out TruncateMode truncate)
    {
        truncate = TruncateMode.Apply;
        if (destination.Scalar("truncate", "apply") is not { } value)
        {
            return true;
        }

        if (!FieldRules.Choice(value, errors, TruncateModes, out truncate))
        {
            return false;
        }

        if (!cdc)
        {
            errors.Add(value.Mark, value.Field, "is only used by cdc jobs (a TRUNCATE in the change stream)", "remove truncate:, or read the source with mode: cdc");
            return false;
        }

        return true;
    }

    private static IReadOnlyList<string>? ExplicitKey(YamlNodeReader destination, JobFileErrors errors, IReadOnlyList<ColumnMapping>? columns)
    {
        var items = destination.ScalarList("key", "id");
        var key = FieldRules.ColumnList(items, errors);
        if (key is null || items is null || columns is not { Count: > 0 })
        {
            return key;
        }

        var targets = columns.Select(c => c.Target).ToList();
        var valid = true;
        foreach (var item in items.Where(i => !targets.Contains(i.Value, StringComparer.Ordinal)))
        {
            var closest = Suggestions.Closest(item.Value, targets);
            errors.Add(
                item.Mark,
                item.Field,
                $"{item.Shown} is not a destination column listed under columns:",
                closest is null ? $"use destination columns from columns: ({string.Join(", ", targets)})" : $"use {closest}");
            valid = false;
        }

        return valid ? key : null;
    }

    // The destination names of the source primary key: the first column mapped from each key column.
    private static IReadOnlyList<string>? DefaultKey(SourceDraft? source, IReadOnlyList<ColumnMapping>? columns)
    {
        if (source?.PrimaryKey is not { } primaryKey || columns is null)
        {
            return null;
        }

        return columns.Count == 0
            ? primaryKey
            : primaryKey.Select(k => columns.First(c => c.Source == k).Target).ToList();
    }
}
