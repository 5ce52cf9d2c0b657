using System.Text.RegularExpressions;
using Sync.Contracts.Jobs;

namespace Sync.Jobs;

/// <summary>
/// The <c>source:</c> keys of <c>type: http</c>: a request path on the connection's base address, where the
/// records sit in a page, how pages follow each other, the watermark's query parameter, and each column's
/// path and type. Table-only keys are refused here, and these keys are refused for a table source.
/// </summary>
internal static partial class HttpSourceSection
{
    public static readonly string[] Keys = ["path", "records", "since_param", "pagination", "fields"];

    private static readonly string[] PaginationKeys = ["type", "param", "next", "start"];
    private static readonly string[] FieldKeys = ["path", "type"];
    private static readonly string[] TableKeys = ["table", "query", "depends_on", "range_size"];

    private static readonly IReadOnlyDictionary<string, string> PageKinds = new Dictionary<string, string>(StringComparer.Ordinal)
    {
        ["page"] = "page",
        ["cursor"] = "cursor",
        ["link"] = "link",
    };

    // A dotted path of JSON property names, e.g. data.items or customer.email; "$" or "$." may lead.
    [GeneratedRegex(@"^(?:\$\.?)?(?:[A-Za-z_][A-Za-z0-9_\-]*(?:\.[A-Za-z_][A-Za-z0-9_\-]*)*)?\z", RegexOptions.CultureInvariant)]
    private static partial Regex JsonPathPattern();

    [GeneratedRegex(@"^[A-Za-z0-9_.~\-\[\]]+\z", RegexOptions.CultureInvariant)]
    private static partial Regex QueryParamPattern();

    public static SourceDraft Read(YamlNodeReader source, JobFileErrors errors, string? connection)
    {
        RefuseKeys(source, errors, "http");
        var path = source.Scalar("path", "/v1/orders", required: true) is { } p ? Path(p, errors) : null;
        var records = source.Scalar("records", "data") is { } r ? JsonPath(r, errors, "data") : "";
        var since = source.Scalar("since_param", "updated_since") is { } s ? QueryParam(s, errors) : null;
        var pagination = Pagination(source, errors, out var paginationValid);
        var fields = Fields(source, errors);
        var cursor = source.Scalar("cursor", "updated_at", required: true) is { } c
            ? FieldRules.Identifier(c, errors, "a column name from fields: like updated_at")
            : null;
        var primaryKey = FieldRules.ColumnList(source.ScalarList("primary_key", "id", required: true), errors);
        var lookback = source.Scalar("lookback", "10m") is { } l ? FieldRules.Duration(l, errors, SourceSection.MaxLookback, "10m") : null;

        var valid = paginationValid && records is not null && RequireFields(source, errors, fields, cursor, primaryKey);
        var http = valid && path is not null && fields is not null ? new HttpSourceSpec(path, Trim(records!), fields, since, pagination) : null;
        return new SourceDraft(http is null ? null : SourceKind.Http, connection, path, cursor, primaryKey, lookback ?? TimeSpan.Zero, http);
    }

    /// <summary>Reports the keys of the other kind under <c>source:</c>, naming the kind that takes them.</summary>
    public static void RefuseKeys(YamlNodeReader source, JobFileErrors errors, string kind)
    {
        var foreign = kind == "http" ? [.. TableKeys, .. FilesSourceSection.Keys.Except(Keys)] : Keys.Union(FilesSourceSection.Keys);
        foreach (var key in foreign.Where(source.Has))
        {
            var fix = kind == "http"
                ? "remove it: an http source reads path: on its connection's base address"
                : Keys.Contains(key)
                    ? $"remove it, or set type: http to read an HTTP API ({key} belongs to http sources)"
                    : $"remove it, or set type: files to read files ({key} belongs to files sources)";
            errors.Add(source.KeyMark(key), source.FieldOf(key), $"does not apply to a {kind} source", fix);
        }
    }

    private static string? Path(YamlScalar path, JobFileErrors errors)
    {
        if (path.Value.Contains("://", StringComparison.Ordinal) || path.Value.StartsWith("//", StringComparison.Ordinal))
        {
            errors.Add(path.Mark, path.Field, "must be a path on the connection's base address, not a whole URL",
                "write path: /v1/orders and set the base address in HttpConnections__<connection>__BaseUrl");
            return null;
        }

        if (!path.Value.StartsWith('/') || path.Value.Any(char.IsWhiteSpace))
        {
            errors.Add(path.Mark, path.Field, $"must start with / and hold no blanks (got {path.Shown})", $"write path: /{path.Value.Trim().TrimStart('/')}");
            return null;
        }

        return path.Value;
    }

    private static string? JsonPath(YamlScalar path, JobFileErrors errors, string example)
    {
        if (JsonPathPattern().IsMatch(path.Value))
        {
            return path.Value;
        }

        errors.Add(path.Mark, path.Field, $"must be a dotted path of JSON property names like {example} (got {path.Shown})",
            $"write the property names from the top of the JSON down, separated by dots, e.g. {example}");
        return null;
    }

    private static string? QueryParam(YamlScalar param, JobFileErrors errors)
    {
        if (QueryParamPattern().IsMatch(param.Value))
        {
            return param.Value;
        }

        errors.Add(param.Mark, param.Field, $"must be a query parameter name like updated_since (got {param.Shown})", "use letters, digits and _ . - only");
        return null;
    }

    private static HttpPagination? Pagination(YamlNodeReader source, JobFileErrors errors, out bool valid)
    {
        valid = true;
        if (!source.Has("pagination"))
        {
            return null;
        }

        var pagination = source.Mapping("pagination", PaginationKeys);
        if (pagination is null || pagination.Scalar("type", "cursor", required: true) is not { } type
            || !FieldRules.Choice(type, errors, PageKinds, out var kind))
        {
            valid = false;
            return null;
        }

        var param = pagination.Scalar("param", kind == "page" ? "page" : "cursor", required: kind is "page" or "cursor") is { } p ? QueryParam(p, errors) : null;
        var next = pagination.Scalar("next", kind == "link" ? "links.next" : "meta.next_cursor", required: kind is "cursor" or "link") is { } n
            ? JsonPath(n, errors, kind == "link" ? "links.next" : "meta.next_cursor")
            : null;
        var start = 1;
        if (pagination.Scalar("start", "1") is { } s && (kind != "page" || !int.TryParse(s.Value, out start) || start < 0))
        {
            errors.Add(s.Mark, s.Field, kind != "page" ? $"applies to type: page only" : $"must be a whole number from 0 (got {s.Shown})",
                kind != "page" ? "remove start:" : "write start: 1 (or 0 if the API counts pages from 0)");
            valid = false;
        }

        if (kind == "link" && pagination.Has("param"))
        {
            errors.Add(pagination.KeyMark("param"), pagination.FieldOf("param"), "applies to type: page or cursor; a link is followed as it is", "remove param:");
            valid = false;
        }

        valid &= (param is not null || kind == "link") && (next is not null || kind == "page");
        return valid ? new HttpPagination(kind, param, next is null ? null : Trim(next), start) : null;
    }

    internal static List<SourceField>? Fields(YamlNodeReader source, JobFileErrors errors)
    {
        if (!source.Has("fields"))
        {
            errors.Add(source.KeyMark("fields"), source.FieldOf("fields"), "is required",
                "add fields: with one column per line, e.g. id: bigint, or total: { path: amount.total, type: numeric }");
            return null;
        }

        var pairs = source.Pairs("fields", "id: bigint", FieldKeys);
        if (pairs is null)
        {
            return null;
        }

        var fields = new List<SourceField>();
        var valid = true;
        var seen = new HashSet<string>(StringComparer.Ordinal);
        foreach (var (column, value, options) in pairs)
        {
            // Short form "column: type" reads the property of the same name; long form names path and type.
            var typeScalar = options is null ? value : options.Scalar("type", "text", required: true);
            var path = options is null ? column.Value : JsonPath(value, errors, "customer.email");
            var name = FieldRules.Identifier(column, errors, "a column name like customer_email");
            string? type = null;
            var typeValid = typeScalar is { } t && FieldRules.Choice(t, errors, Kinds.Casts, out type);
            if (name is not null && !seen.Add(name))
            {
                errors.Add(column.Mark, column.Field, $"lists column {column.Shown} twice", "keep one entry per column");
                valid = false;
            }

            if (name is null || path is null || !typeValid || type is null)
            {
                valid = false;
                continue;
            }

            fields.Add(new SourceField(name, Trim(path), type));
        }

        return valid ? fields : null;
    }

    internal static bool RequireFields(YamlNodeReader source, JobFileErrors errors, List<SourceField>? fields, string? cursor, IReadOnlyList<string>? primaryKey)
    {
        if (fields is null)
        {
            return false;
        }

        var names = fields.Select(f => f.Column).ToList();
        var valid = true;
        foreach (var (column, key) in new[] { (cursor, "cursor") }.Concat((primaryKey ?? []).Select(k => ((string?)k, "primary_key"))))
        {
            if (column is not null && !names.Contains(column))
            {
                var closest = Suggestions.Closest(column, names);
                errors.Add(source.KeyMark(key), source.FieldOf(key), $"names {ValueText.Show(column)}, which is not a column under fields:",
                    closest is null ? $"add {column}: <type> under fields:" : $"use {closest}, or add {column}: <type> under fields:");
                valid = false;
            }
        }

        return valid;
    }

    internal static string Trim(string path) => path.StartsWith("$.", StringComparison.Ordinal) ? path[2..] : path == "$" ? "" : path;
}
