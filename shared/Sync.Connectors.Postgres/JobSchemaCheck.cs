using Npgsql;
using Sync.Contracts.Jobs;

namespace Sync.Connectors.Postgres;

/// <summary>
/// Checks a job against the live schemas of its source and destination before it runs: tables and
/// columns exist, cursor and key types are usable, the destination key is backed by a unique index. A
/// destination table that does not exist yet is no problem: the Loader makes it.
/// </summary>
public sealed class JobSchemaCheck(ConnectionCatalog connections)
{
    public async Task<IReadOnlyList<SchemaProblem>> CheckAsync(JobSpec job, CancellationToken cancellationToken)
    {
        var problems = new List<SchemaProblem>();
        // A table or query source has a schema to read here; an http or files source's fields declare their types.
        var source = job.Source.Kind != SourceKind.Postgres
            ? null
            : job.Source.Query is null
                ? await ReadTableAsync(job.Source.Connection, job.Source.Table, "source", problems, cancellationToken)
                : await ReadQueryAsync(job.Source.Connection, job.Source.Query, problems, cancellationToken);
        if (source is not null)
        {
            try
            {
                // A cdc job without a cursor is read in primary-key order.
                var plan = SourcePlan.Resolve(job.Source.Cursor.Length == 0 ? job.Source with { Cursor = job.Source.PrimaryKey[0] } : job.Source, job.Transform, source);
                await TransformSchemaCheck.CheckAsync(connections, job.Transform, plan.BatchColumns, problems, cancellationToken);
                await CheckCursorAsync(job, plan, problems, cancellationToken);
            }
            catch (SourceSchemaException exception)
            {
                problems.Add(new SchemaProblem("source", exception.Message));
            }
        }

        // An s3 or duckdb destination has no PostgreSQL schema to check: the Loader creates what it writes.
        if (job.Destination.Kind != DestinationKind.Postgres)
        {
            return problems;
        }

        // An absent destination table is made by the Loader from the first batch (DestinationTable).
        var destination = await ReadTableAsync(job.Destination.Connection, job.Destination.Table, "destination", problems, cancellationToken, absentIsProblem: false);
        if (destination is null)
        {
            return problems;
        }

        var names = destination.Select(c => c.Name).ToHashSet(StringComparer.Ordinal);
        var targets = job.Transform.Columns.Count == 0
            ? source?.Select(c => c.Name).ToList() ?? (job.Source.Http?.Fields ?? job.Source.Files?.Fields)?.Select(f => f.Column).ToList() ?? []
            : job.Transform.Columns.Select(m => m.Target).ToList();
        // Under the other contracts a column the table lacks is added, or its values discarded, as the batches come.
        foreach (var target in targets.Where(t => !names.Contains(t) && job.Destination.Schema == SchemaContract.Freeze))
        {
            problems.Add(new SchemaProblem(
                job.Transform.Columns.Count == 0 ? "columns" : $"columns.{target}",
                $"Destination table {job.Destination.Table} has no column \"{target}\" and is frozen (destination.schema: freeze). Add it, map the source column to an existing one under columns:, or set destination.schema: evolve."));
        }

        if (job.Destination is { Deletes: DeleteMode.SoftDelete, SoftDeleteColumn: { } softDelete })
        {
            SoftDeleteColumnProblems(job, destination, targets, softDelete, problems);
        }

        if (problems.Count == 0)
        {
            await using var connection = await connections.Get(job.Destination.Connection).OpenConnectionAsync(cancellationToken);
            if (!await PostgresSchema.HasUniqueKeyAsync(connection, job.Destination.Table, job.Destination.Key, cancellationToken))
            {
                problems.Add(new SchemaProblem(
                    "destination.key",
                    $"No unique index on {job.Destination.Table} ({string.Join(", ", job.Destination.Key)}); upserts need one. Create it, e.g. a primary key on those columns."));
            }
        }

        return problems;
    }

    // The same refusals a run would meet (CursorSafety, CdcReplicaIdentity), before it runs.
    private async Task CheckCursorAsync(JobSpec job, SourcePlan plan, List<SchemaProblem> problems, CancellationToken cancellationToken)
    {
        try
        {
            if (job.Mode == SyncMode.Cdc)
            {
                await using var connection = await connections.Get(job.Source.Connection).OpenConnectionAsync(cancellationToken);
                await Cdc.CdcReplicaIdentity.CheckAsync(connection, job, cancellationToken);
            }
            else if (CursorSafety.BoundFor(job, plan) == CursorBound.SettledMax)
            {
                await using var connection = await connections.Get(job.Source.Connection).OpenConnectionAsync(cancellationToken);
                await CursorSafety.CheckSequenceAsync(connection, job, cancellationToken);
            }
        }
        catch (SourceSchemaException exception)
        {
            problems.Add(new SchemaProblem(job.Mode == SyncMode.Cdc ? "source.primary_key" : "source.cursor", exception.Message));
        }
    }

    private static void SoftDeleteColumnProblems(JobSpec job, IReadOnlyList<TableColumn> destination, IReadOnlyList<string> targets, string softDelete, List<SchemaProblem> problems)
    {
        const string field = "destination.soft_delete_column";
        var column = destination.FirstOrDefault(c => c.Name == softDelete);
        if (column is null)
        {
            problems.Add(new SchemaProblem(field, $"Destination table {job.Destination.Table} has no column \"{softDelete}\". Add it: ALTER TABLE {job.Destination.Table} ADD COLUMN {softDelete} timestamptz."));
        }
        else if (column.TypeName != "timestamp with time zone")
        {
            problems.Add(new SchemaProblem(field, $"Column \"{softDelete}\" of {job.Destination.Table} is {column.TypeName}; a soft-delete column must be timestamptz. Use a timestamptz column."));
        }
        else if (column.NotNull)
        {
            problems.Add(new SchemaProblem(field, $"Column \"{softDelete}\" of {job.Destination.Table} is NOT NULL; rows that exist carry null there. Drop the NOT NULL constraint."));
        }

        if (targets.Contains(softDelete, StringComparer.Ordinal))
        {
            problems.Add(new SchemaProblem(field, $"The job writes source values to \"{softDelete}\"; the soft-delete column belongs to Sync. Use another column, or stop mapping one to it under columns:."));
        }
    }

    private async Task<IReadOnlyList<TableColumn>?> ReadQueryAsync(string connectionName, string query, List<SchemaProblem> problems, CancellationToken cancellationToken)
    {
        if (!connections.IsDefined(connectionName))
        {
            problems.Add(new SchemaProblem("source.connection", new UnknownConnectionException(connectionName).Message));
            return null;
        }

        try
        {
            await using var connection = await connections.Get(connectionName).OpenConnectionAsync(cancellationToken);
            await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
            await using (var readOnly = new NpgsqlCommand("SET TRANSACTION READ ONLY", connection))
            {
                await readOnly.ExecuteNonQueryAsync(cancellationToken);
            }

            return await PostgresSchema.GetQueryColumnsAsync(connection, query, cancellationToken);
        }
        catch (PostgresException exception)
        {
            problems.Add(new SchemaProblem("source.query", $"PostgreSQL refuses the query: {exception.MessageText} (SQLSTATE {exception.SqlState})."));
            return null;
        }
        catch (NpgsqlException exception)
        {
            problems.Add(new SchemaProblem("source.connection", $"Cannot reach connection \"{connectionName}\": {exception.Message}"));
            return null;
        }
    }

    private async Task<IReadOnlyList<TableColumn>?> ReadTableAsync(
        string connectionName, string table, string side, List<SchemaProblem> problems, CancellationToken cancellationToken, bool absentIsProblem = true)
    {
        if (!connections.IsDefined(connectionName))
        {
            problems.Add(new SchemaProblem($"{side}.connection", new UnknownConnectionException(connectionName).Message));
            return null;
        }

        try
        {
            await using var connection = await connections.Get(connectionName).OpenConnectionAsync(cancellationToken);
            var columns = await PostgresSchema.GetColumnsAsync(connection, table, cancellationToken);
            if (columns is null && absentIsProblem)
            {
                problems.Add(new SchemaProblem($"{side}.table", $"Table {table} does not exist in connection \"{connectionName}\"."));
            }

            return columns;
        }
        catch (NpgsqlException exception)
        {
            problems.Add(new SchemaProblem($"{side}.connection", $"Cannot reach connection \"{connectionName}\": {exception.Message}"));
            return null;
        }
    }
}

/// <summary>A mismatch between a job and a live schema, with the job field it concerns.</summary>
public sealed record SchemaProblem(string Field, string Message);
