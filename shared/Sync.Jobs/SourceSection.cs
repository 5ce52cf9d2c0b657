using Sync.Contracts.Jobs;

namespace Sync.Jobs;

/// <summary>The <c>source:</c> section as far as it is valid; a null field was missing or reported as an error.</summary>
internal sealed record SourceDraft(SourceKind? Kind, string? Connection, string? Table, string? Cursor, IReadOnlyList<string>? PrimaryKey, TimeSpan Lookback, HttpSourceSpec? Http = null, FilesSourceSpec? Files = null, string? Query = null, SyncMode Mode = SyncMode.Incremental, IReadOnlyList<SourceDependency>? DependsOn = null, long RangeSize = 0)
{
    public SourceSpec? ToSpec() =>
        Kind is not { } kind || Connection is null || (Table is null && Query is null) || Cursor is null || PrimaryKey is null
            ? null
            : new SourceSpec(kind, Connection, Table ?? string.Empty, Cursor, PrimaryKey, Lookback, Http, Files, Query, DependsOn, RangeSize);
}

internal static class SourceSection
{
    public static readonly string[] Keys = ["type", "connection", "table", "query", "cursor", "primary_key", "lookback", "mode", "depends_on", "range_size"];

    /// <summary>The longest look-back a job may ask for: every run re-reads that window.</summary>
    public static readonly TimeSpan MaxLookback = TimeSpan.FromDays(7);

    public static SourceDraft? Read(YamlNodeReader job, JobFileErrors errors)
    {
        var source = job.Mapping("source", [.. Keys, .. HttpSourceSection.Keys, .. FilesSourceSection.Keys.Except(HttpSourceSection.Keys), .. CodeSourceSection.Keys], required: true);
        if (source is null)
        {
            return null;
        }

        var kind = source.Scalar("type", "postgres", required: true) is { } type
            && FieldRules.Choice(type, errors, Kinds.Sources, out var known) ? known : (SourceKind?)null;
        var word = Kinds.Word(Kinds.Sources, kind ?? SourceKind.Postgres);
        if (kind == SourceKind.Code)
        {
            return CodeSourceSection.Read(source, errors);
        }

        CodeSourceSection.RefuseKeys(source, errors, word);
        var connection = source.Scalar("connection", "source_db", required: true) is { } name
            ? ConnectionRules.Name(name, errors, "source")
            : null;
        if (kind == SourceKind.Http)
        {
            return HttpSourceSection.Read(source, errors, connection);
        }

        if (kind == SourceKind.Files)
        {
            return FilesSourceSection.Read(source, errors, connection);
        }

        HttpSourceSection.RefuseKeys(source, errors, word);

        string? table = null;
        string? query = null;
        if (source.Has("query"))
        {
            query = SourceQuery.Read(source, errors);
        }
        else
        {
            table = source.Scalar("table", "public.orders", required: true) is { } t ? FieldRules.Table(t, errors) : null;
        }

        var mode = CdcSourceRules.Mode(source, errors);
        var cursor = source.Scalar("cursor", "updated_at", required: mode != SyncMode.Cdc) is { } c
            ? QueryColumn(c, query, errors) ?? FieldRules.Identifier(c, errors, "a column name like updated_at")
            : mode == SyncMode.Cdc ? string.Empty : null;
        var primaryKey = FieldRules.ColumnList(source.ScalarList("primary_key", "id", required: true), errors);
        var lookback = source.Scalar("lookback", "10m") is { } l ? FieldRules.Duration(l, errors, MaxLookback, "10m") : null;
        CdcSourceRules.RefuseLookback(source, errors, mode, lookback);
        var dependsOn = DependsOnSection.Read(source, errors, mode, query, primaryKey);
        var rangeSize = RangeSizeRules.Read(source, errors, kind, query, primaryKey, mode);
        return new SourceDraft(kind, connection, table, cursor, primaryKey, lookback ?? TimeSpan.Zero, Query: query, Mode: mode, DependsOn: dependsOn, RangeSize: rangeSize);
    }

    // A query source's cursor names an output column of the query; orders.updated_at is a column
    // of a table in it, which the query must alias.
    private static string? QueryColumn(YamlScalar cursor, string? query, JobFileErrors errors)
    {
        if (query is null || !cursor.Value.Contains('.', StringComparison.Ordinal))
        {
            return null;
        }

        var column = cursor.Value[(cursor.Value.LastIndexOf('.') + 1)..];
        errors.Add(
            cursor.Mark,
            cursor.Field,
            $"must name an output column of the query (got {cursor.Shown})",
            $"select it under a plain name, e.g. {cursor.Value} AS {column}, and write cursor: {column}");
        return string.Empty;
    }
}
