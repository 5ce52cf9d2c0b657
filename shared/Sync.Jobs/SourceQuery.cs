namespace Sync.Jobs;

/// <summary>
/// The <c>source.query:</c> field: one SELECT (or WITH … SELECT) whose output columns the cursor and
/// primary key name. The Extractor wraps it as a subquery in a read-only transaction and adds the
/// cursor's WHERE and ORDER BY itself, so the query must not filter on the watermark or end in a semicolon.
/// </summary>
internal static class SourceQuery
{
    public static string? Read(YamlNodeReader source, JobFileErrors errors)
    {
        if (source.Has("table"))
        {
            errors.Add(
                source.KeyMark("query"),
                source.FieldOf("query"),
                "cannot be used together with table: (a source reads one table or one query)",
                "keep table: to read a table, or remove it and keep query: to read a SELECT");
        }

        if (source.Scalar("query", "\"SELECT id, updated_at FROM public.orders\"", required: true) is not { } query)
        {
            return null;
        }

        var text = query.Value.Trim();
        if (text.Length == 0)
        {
            errors.Add(query.Mark, query.Field, "must be a SELECT statement (got an empty value)", "write the query as a block: query: | followed by SELECT … on the next lines");
            return null;
        }

        var firstWord = text.Split((char[])[' ', '\n', '\r', '\t', '('], 2)[0];
        if (!firstWord.Equals("SELECT", StringComparison.OrdinalIgnoreCase) && !firstWord.Equals("WITH", StringComparison.OrdinalIgnoreCase))
        {
            errors.Add(query.Mark, query.Field, $"must be a SELECT statement (it starts with {ValueText.Show(firstWord)})", "start it with SELECT (or WITH … SELECT); to read a whole table use table: instead");
            return null;
        }

        if (text.EndsWith(';'))
        {
            errors.Add(query.Mark, query.Field, "must not end with a semicolon: Sync wraps it as a subquery", "remove the trailing ;");
            return null;
        }

        if (text.Contains(';', StringComparison.Ordinal))
        {
            errors.Add(query.Mark, query.Field, "must be one statement (it contains a ;)", "keep one SELECT; a ; inside a string literal can be written chr(59)");
            return null;
        }

        return text;
    }
}
