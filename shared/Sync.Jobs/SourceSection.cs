using Sync.Contracts.Jobs;

namespace Sync.Jobs;

/// <summary>The <c>source:</c> section as far as it is valid; a null field was missing or reported as an error.</summary>
internal sealed record SourceDraft(string? Kind, string? Connection, string? Table, string? Cursor, IReadOnlyList<string>? PrimaryKey, TimeSpan Lookback, HttpSourceSpec? Http = null, FilesSourceSpec? Files = null)
{
    public SourceSpec? ToSpec() =>
        Kind is null || Connection is null || Table is null || Cursor is null || PrimaryKey is null
            ? null
            : new SourceSpec(Kind, Connection, Table, Cursor, PrimaryKey, Lookback, Http, Files);
}

internal static class SourceSection
{
    public static readonly string[] Keys = ["type", "connection", "table", "cursor", "primary_key", "lookback"];

    /// <summary>The longest look-back a job may ask for: every run re-reads that window.</summary>
    public static readonly TimeSpan MaxLookback = TimeSpan.FromDays(7);

    public static SourceDraft? Read(YamlNodeReader job, JobFileErrors errors)
    {
        var source = job.Mapping("source", [.. Keys, .. HttpSourceSection.Keys, .. FilesSourceSection.Keys.Except(HttpSourceSection.Keys)], required: true);
        if (source is null)
        {
            return null;
        }

        var kind = source.Scalar("type", "postgres", required: true) is { } type
            && FieldRules.Choice(type, errors, Kinds.Sources, out var known) ? known : null;
        var connection = source.Scalar("connection", "source_db", required: true) is { } name
            ? ConnectionRules.Name(name, errors, "source")
            : null;
        if (kind == "http")
        {
            return HttpSourceSection.Read(source, errors, connection);
        }

        if (kind == "files")
        {
            return FilesSourceSection.Read(source, errors, connection);
        }

        HttpSourceSection.RefuseKeys(source, errors, kind ?? "postgres");
        var table = source.Scalar("table", "public.orders", required: true) is { } t ? FieldRules.Table(t, errors) : null;
        var cursor = source.Scalar("cursor", "updated_at", required: true) is { } c
            ? FieldRules.Identifier(c, errors, "a column name like updated_at")
            : null;
        var primaryKey = FieldRules.ColumnList(source.ScalarList("primary_key", "id", required: true), errors);
        var lookback = source.Scalar("lookback", "10m") is { } l ? FieldRules.Duration(l, errors, MaxLookback, "10m") : null;
        return new SourceDraft(kind, connection, table, cursor, primaryKey, lookback ?? TimeSpan.Zero);
    }
}
