using System.Text.RegularExpressions;
using Sync.Contracts.Jobs;

namespace Sync.Jobs;

/// <summary>
/// The top-level <c>filter:</c> (an expression; records for which it is not true are dropped),
/// <c>lookups:</c> (columns read from another table by key) and <c>transform: { code: name }</c>
/// (a C# transform registered under that name, Sync.Sdk), added to the column mapping.
/// </summary>
internal static partial class TransformSection
{
    private static readonly string[] LookupKeys = ["table", "key", "match", "column", "connection"];
    private static readonly string[] TransformKeys = ["code"];

    [GeneratedRegex(@"^[A-Za-z][A-Za-z0-9_.-]{0,99}\z", RegexOptions.CultureInvariant)]
    private static partial Regex CodeNamePattern();

    public static TransformSpec? Read(YamlNodeReader job, JobFileErrors errors, SourceDraft? source, IReadOnlyList<ColumnMapping> columns)
    {
        var valid = true;
        string? filter = null;
        if (job.Scalar("filter", "\"status <> 'draft'\"") is { } filterValue)
        {
            valid &= ExpressionSection.Check(filterValue, errors);
            filter = filterValue.Value;
        }

        var lookups = ReadLookups(job, errors, source, ref valid);
        string? code = null;
        if (job.Mapping("transform", TransformKeys) is { } transform && transform.Scalar("code", "normalize_orders", required: true) is { } codeValue)
        {
            if (CodeNamePattern().IsMatch(codeValue.Value))
            {
                code = codeValue.Value;
            }
            else
            {
                errors.Add(codeValue.Mark, codeValue.Field, $"must be the name of a registered C# transform (got {codeValue.Shown})", "use the name in its [SyncTransform(\"…\")] attribute: letters, digits, _ . and -, starting with a letter");
                valid = false;
            }
        }

        return valid ? new TransformSpec(columns, filter, lookups, code) : null;
    }

    private static List<LookupSpec>? ReadLookups(YamlNodeReader job, JobFileErrors errors, SourceDraft? source, ref bool valid)
    {
        if (!job.Has("lookups"))
        {
            return null;
        }

        var pairs = job.Pairs("lookups", "user_email: { table: public.users, key: user_id, match: id, column: email }", LookupKeys);
        if (pairs is null)
        {
            valid = false;
            return null;
        }

        var lookups = new List<LookupSpec>();
        foreach (var (name, table, options) in pairs)
        {
            if (options is null)
            {
                errors.Add(name.Mark, name.Field, "must be a mapping with table, key, match and column", $"write {name.Value}: {{ table: public.users, key: user_id, match: id, column: email }}");
                valid = false;
                continue;
            }

            var lookupName = FieldRules.Identifier(name, errors, "a column name like user_email");
            var tableName = FieldRules.Table(table, errors);
            var key = options.Scalar("key", "user_id", required: true) is { } k ? FieldRules.Identifier(k, errors, "a source column name like user_id") : null;
            var match = options.Scalar("match", "id", required: true) is { } m ? FieldRules.Identifier(m, errors, "a column of the lookup table like id") : null;
            var column = options.Scalar("column", "email", required: true) is { } c ? FieldRules.Identifier(c, errors, "a column of the lookup table like email") : null;
            var connection = options.Scalar("connection", "source") is { } conn ? conn.Value : source?.Connection;
            if (source is not null && source.Kind != SourceKind.Postgres && options.Scalar("connection", "source") is null)
            {
                errors.Add(name.Mark, name.Field, "needs a connection: the source is not a PostgreSQL database", $"add connection: <a PostgreSQL connection name> under lookups.{name.Value}:");
                valid = false;
            }

            if (lookupName is null || tableName is null || key is null || match is null || column is null || connection is null)
            {
                valid = false;
                continue;
            }

            lookups.Add(new LookupSpec(lookupName, connection, tableName, key, match, column));
        }

        return lookups;
    }
}
