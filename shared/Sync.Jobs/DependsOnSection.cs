using Sync.Contracts.Jobs;

namespace Sync.Jobs;

/// <summary>
/// <c>source.depends_on:</c> of a query read by cdc: every table the query reads, each with how a
/// changed row maps to the query's primary key (the fact key). A change the list leaves out is never
/// seen, so the facts it feeds would go stale: that the list is whole cannot be checked here (the
/// query is SQL), but every entry's shape is.
/// </summary>
internal static class DependsOnSection
{
    private static readonly string[] Keys = ["table", "fact_key", "fact_keys_query"];

    private const string Example = "table: public.order_items, fact_key: [order_id]";

    public static IReadOnlyList<SourceDependency>? Read(YamlNodeReader source, JobFileErrors errors, SyncMode mode, string? query, IReadOnlyList<string>? primaryKey)
    {
        if (!source.Has("depends_on"))
        {
            if (mode == SyncMode.Cdc && query is not null)
            {
                errors.Add(
                    source.KeyMark("mode"),
                    source.FieldOf("mode"),
                    "cdc of a query needs depends_on: the tables the query reads and how a change of each maps to its primary key, to know which rows to derive again",
                    $"add depends_on: with one entry per table the query reads, e.g. - {Example}; or use mode: incremental");
            }

            return null;
        }

        if (mode != SyncMode.Cdc || query is null)
        {
            errors.Add(
                source.KeyMark("depends_on"),
                source.FieldOf("depends_on"),
                "has use only for a query read with mode: cdc, whose rows it derives again when a table the query reads changes",
                query is null ? "remove depends_on (a table source follows its own changes)" : "add mode: cdc under source:, or remove depends_on");
            return null;
        }

        if (source.MappingList("depends_on", Keys, Example) is not { } entries)
        {
            return null;
        }

        var dependencies = new List<SourceDependency>();
        var tables = new HashSet<string>(StringComparer.Ordinal);
        foreach (var entry in entries)
        {
            if (Entry(entry, errors, primaryKey) is not { } dependency)
            {
                continue;
            }

            if (!tables.Add(SqlIdentifier.QuoteQualified(dependency.Table)))
            {
                errors.Add(entry.KeyMark("table"), entry.FieldOf("table"), $"lists {dependency.Table} a second time", "keep one entry per table; a fact_keys_query can return the keys of every path from it");
                continue;
            }

            dependencies.Add(dependency);
        }

        return dependencies;
    }

    private static SourceDependency? Entry(YamlNodeReader entry, JobFileErrors errors, IReadOnlyList<string>? primaryKey)
    {
        var table = entry.Scalar("table", "public.order_items", required: true) is { } t ? FieldRules.Table(t, errors) : null;
        var keyCount = primaryKey?.Count ?? 0;
        if (entry.Has("fact_key") && entry.Has("fact_keys_query"))
        {
            errors.Add(entry.KeyMark("fact_keys_query"), entry.FieldOf("fact_keys_query"), "cannot be used together with fact_key (a table maps to the facts one way)", "keep fact_key when the table holds the fact key's columns, fact_keys_query when its rows lead to the facts through another table");
            return null;
        }

        if (entry.Has("fact_keys_query"))
        {
            return FactKeysQuery(entry, errors) is { } query && table is not null ? new SourceDependency(table, FactKeysQuery: query) : null;
        }

        if (!entry.Has("fact_key"))
        {
            errors.Add(
                entry.KeyMark("table"),
                entry.FieldOf("fact_key"),
                "is required: which columns of the table hold the fact key (the job's primary_key), so a change of a row says which facts to derive again",
                $"add fact_key: [<{(keyCount > 1 ? $"{keyCount} columns" : "column")} of {table ?? "the table"}>] in the order of primary_key, or fact_keys_query: \"SELECT … WHERE … = ANY(@column)\" when the rows lead to the facts through another table");
            return null;
        }

        var factKey = FieldRules.ColumnList(entry.ScalarList("fact_key", "order_id", required: true), errors);
        if (factKey is null || table is null)
        {
            return null;
        }

        if (primaryKey is not null && factKey.Count != keyCount)
        {
            errors.Add(
                entry.KeyMark("fact_key"),
                entry.FieldOf("fact_key"),
                $"names {factKey.Count} column{(factKey.Count == 1 ? "" : "s")}, but the fact key (primary_key) has {keyCount}: [{string.Join(", ", primaryKey)}]",
                $"list the {keyCount} column{(keyCount == 1 ? "" : "s")} of {table} that hold {string.Join(", ", primaryKey)}, in that order");
            return null;
        }

        return new SourceDependency(table, factKey);
    }

    private static string? FactKeysQuery(YamlNodeReader entry, JobFileErrors errors)
    {
        if (entry.Scalar("fact_keys_query", "\"SELECT id FROM public.orders WHERE customer_id = ANY(@id)\"") is not { } query)
        {
            return null;
        }

        var text = query.Value.Trim();
        var firstWord = text.Split((char[])[' ', '\n', '\r', '\t', '('], 2)[0];
        if (!firstWord.Equals("SELECT", StringComparison.OrdinalIgnoreCase) && !firstWord.Equals("WITH", StringComparison.OrdinalIgnoreCase))
        {
            errors.Add(query.Mark, query.Field, $"must be a SELECT of fact keys (it starts with {ValueText.Show(firstWord)})", "write SELECT <the fact key's columns> FROM … WHERE … = ANY(@column)");
            return null;
        }

        if (text.Contains(';', StringComparison.Ordinal))
        {
            errors.Add(query.Mark, query.Field, "must be one statement without a ;", "remove the ;");
            return null;
        }

        if (FactKeysQueryParameters.Of(text).Count == 0)
        {
            errors.Add(
                query.Mark,
                query.Field,
                "names no @column: it must read the changed rows' values, which it gets as array parameters named after the table's columns",
                "filter on them, e.g. WHERE customer_id = ANY(@id) where id is a column of the table");
            return null;
        }

        return text;
    }
}
