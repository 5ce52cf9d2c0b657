using Npgsql;
using Sync.Batches;
using Sync.Contracts.Jobs;

namespace Sync.Connectors.Postgres;

/// <summary>
/// Reads values an operator typed (a watermark to set, a backfill's from and to) as the type of the
/// job's cursor column, by PostgreSQL's own input function, and gives them back in its text form, so
/// that a value the source would refuse is refused now, naming the type (issue 18, item 4).
/// </summary>
public sealed class CursorValues(ConnectionCatalog connections)
{
    public async Task<(IReadOnlyList<string>? Values, SchemaProblem? Problem)> ParseAsync(JobSpec job, IReadOnlyList<string> values, CancellationToken cancellationToken)
    {
        if (job.Source.Kind != SourceKind.Postgres)
        {
            return (null, new SchemaProblem("source.type", $"Job \"{job.Name}\" reads a {job.Source.Kind.ToString().ToLowerInvariant()} source; only a PostgreSQL source's cursor can be set or backfilled by value."));
        }

        if (!connections.IsDefined(job.Source.Connection))
        {
            return (null, new SchemaProblem("source.connection", new UnknownConnectionException(job.Source.Connection).Message));
        }

        await using var connection = await connections.Get(job.Source.Connection).OpenConnectionAsync(cancellationToken);
        var table = job.Source.Query is { } query
            ? await QueryColumnsAsync(connection, query, cancellationToken)
            : await PostgresSchema.GetColumnsAsync(connection, job.Source.Table, cancellationToken);
        if (table is null)
        {
            return (null, new SchemaProblem("source.table", $"Source table {job.Source.Table} does not exist."));
        }

        SourcePlan plan;
        try
        {
            plan = SourcePlan.Resolve(job.Source, job.Transform, table);
        }
        catch (SourceSchemaException exception)
        {
            return (null, new SchemaProblem("source", exception.Message));
        }

        var cursor = plan.Columns[0];
        var type = PgTypes.SqlName(cursor.ValueTypeOid);
        var parsed = new List<string>(values.Count);
        foreach (var value in values)
        {
            await using var command = new NpgsqlCommand($"SELECT CAST($1 AS {type})::text", connection) { Parameters = { new NpgsqlParameter { Value = value } } };
            try
            {
                parsed.Add((string)(await command.ExecuteScalarAsync(cancellationToken))!);
            }
            catch (PostgresException exception)
            {
                return (null, new SchemaProblem("cursor", $"\"{value}\" is not a value of the cursor \"{cursor.Name}\" ({type}): {exception.MessageText}."));
            }
        }

        for (var i = 1; i < parsed.Count; i++)
        {
            await using var command = new NpgsqlCommand($"SELECT CAST($1 AS {type}) < CAST($2 AS {type})", connection)
            {
                Parameters = { new NpgsqlParameter { Value = parsed[i - 1] }, new NpgsqlParameter { Value = parsed[i] } },
            };
            if (!(bool)(await command.ExecuteScalarAsync(cancellationToken))!)
            {
                return (null, new SchemaProblem("cursor", $"\"{values[i - 1]}\" is not before \"{values[i]}\" in the cursor \"{cursor.Name}\" ({type}); the range would be empty."));
            }
        }

        return (parsed, null);
    }

    // The query is the operator's SQL: described in a read-only transaction, as the Extractor reads it.
    private static async Task<IReadOnlyList<TableColumn>> QueryColumnsAsync(NpgsqlConnection connection, string query, CancellationToken cancellationToken)
    {
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
        await using (var readOnly = new NpgsqlCommand("SET TRANSACTION READ ONLY", connection))
        {
            await readOnly.ExecuteNonQueryAsync(cancellationToken);
        }

        var columns = await PostgresSchema.GetQueryColumnsAsync(connection, query, cancellationToken);
        await transaction.CommitAsync(cancellationToken);
        return columns;
    }
}
