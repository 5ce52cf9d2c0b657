using Sync.Contracts;
using Sync.Contracts.Jobs;
using Sync.Expressions;

namespace Sync.Connectors.Postgres;

/// <summary>
/// Checks a job's expressions and lookups against the batch columns the source will produce, so an
/// unknown column or a type mismatch is refused at validation, not at the first batch.
/// </summary>
internal static class TransformSchemaCheck
{
    public static async Task CheckAsync(
        ConnectionCatalog connections, TransformSpec transform, IReadOnlyList<BatchColumn> batch, List<SchemaProblem> problems, CancellationToken cancellationToken)
    {
        var columns = new List<BatchColumn>(batch);
        foreach (var lookup in transform.Lookups ?? [])
        {
            if (!connections.IsDefined(lookup.Connection))
            {
                problems.Add(new SchemaProblem($"lookups.{lookup.Name}.connection", new UnknownConnectionException(lookup.Connection).Message));
                continue;
            }

            try
            {
                await using var connection = await connections.Get(lookup.Connection).OpenConnectionAsync(cancellationToken);
                columns.Add(await PostgresLookup.ColumnAsync(connection, lookup, cancellationToken));
                if (batch.FirstOrDefault(c => c.Name == lookup.Key) is { } key && !PostgresLookup.IsKeyType(key.TypeOid))
                {
                    problems.Add(new SchemaProblem($"lookups.{lookup.Name}.key", $"Key \"{lookup.Key}\" has a type a lookup cannot match on; use an integer, text or uuid column."));
                }
            }
            catch (SourceSchemaException exception)
            {
                problems.Add(new SchemaProblem($"lookups.{lookup.Name}", exception.Message));
            }
        }

        (int, ExprType)? Resolve(string name) =>
            columns.FindIndex(c => c.Name == name) is var i and >= 0 && PgValueCodec.TypeOf(columns[i].TypeOid) is { } type ? (i, type) : null;

        if (transform.Filter is { } filter)
        {
            Check("filter", filter, Resolve, problems, mustBeBoolean: true);
        }

        foreach (var mapping in transform.Columns.Where(m => m.Expression is not null))
        {
            Check($"columns.{mapping.Target}.expr", mapping.Expression!, Resolve, problems, mustBeBoolean: false);
        }
    }

    private static void Check(string field, string text, Func<string, (int, ExprType)?> resolve, List<SchemaProblem> problems, bool mustBeBoolean)
    {
        try
        {
            var compiled = Expression.Parse(text).Bind(resolve);
            if (mustBeBoolean && compiled.Type is not (ExprType.Boolean or ExprType.Null))
            {
                problems.Add(new SchemaProblem(field, $"\"{text}\" is {compiled.Type.SqlName()}, not true or false; compare it, e.g. {text} is not null."));
            }
        }
        catch (ExpressionException exception)
        {
            problems.Add(new SchemaProblem(field, $"\"{text}\" {exception.Describe()} (columns of the source: see the source table or query)."));
        }
    }
}
