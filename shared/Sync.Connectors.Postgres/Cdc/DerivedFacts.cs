using System.Data;
using System.Globalization;
using System.Text;
using Npgsql;
using NpgsqlTypes;
using Sync.Batches;
using Sync.Contracts;
using Sync.Contracts.Jobs;
using Sync.Jobs;

namespace Sync.Connectors.Postgres.Cdc;

/// <summary>
/// Derives again exactly the facts (rows of a derived job's query, by its primary key) that a set of
/// changed dependency rows names: an upsert for each fact the query returns, a delete for each named
/// fact it no longer returns (its parent is gone). The query runs once per call, filtered by
/// <c>key = ANY(keys)</c> on its output, which PostgreSQL pushes down into a GROUP BY on that key
/// (a restriction on a grouping column), so an aggregate reads only the affected groups.
/// It reads the source as it is now, at or after the changes' LSN: a later change of the same fact
/// comes in a later batch and derives it again, and batches apply in order, so the destination ends
/// where the source is.
/// COPY takes no parameters: the keys travel as transaction-local settings bound as parameters and
/// read back with current_setting(), as <see cref="PostgresSource"/> passes its bounds; no value is spliced.
/// </summary>
internal static class DerivedFacts
{
    private const string Found = "sync_fact_found";

    /// <summary>
    /// Hands the derived facts to <paramref name="onBatch"/> in batches of at most the job's batch_size
    /// rows and batch_bytes bytes (a fact_keys_query can name many facts for few changes); returns how
    /// many rows it handed.
    /// </summary>
    public static async Task<long> DeriveAsync(
        NpgsqlConnection connection, JobSpec job, SourcePlan plan, ChangedKeySet changed,
        Func<RecordBatch, CancellationToken, ValueTask> onBatch, CancellationToken cancellationToken)
    {
        var source = job.Source;
        await using var transaction = await connection.BeginTransactionAsync(IsolationLevel.RepeatableRead, cancellationToken);
        await using (var readOnly = new NpgsqlCommand("SET TRANSACTION READ ONLY", connection, transaction))
        {
            await readOnly.ExecuteNonQueryAsync(cancellationToken);
        }

        var keys = await FactKeysAsync(connection, transaction, source, changed, cancellationToken);
        if (keys.Count == 0)
        {
            await transaction.CommitAsync(cancellationToken);
            return 0;
        }

        var keyColumns = source.PrimaryKey.Select(k => plan.Columns.First(c => c.Name == k)).ToList();
        await using (var set = new NpgsqlCommand { Connection = connection, Transaction = transaction })
        {
            var sql = new StringBuilder("SELECT 1");
            for (var i = 0; i < keyColumns.Count; i++)
            {
                sql.Append(CultureInfo.InvariantCulture, $", set_config('sync.fact_key_{i}', ${i + 1}, true)");
                set.Parameters.Add(new NpgsqlParameter { Value = ArrayLiteral(keys.Select(k => k[i]!)) });
            }

            set.CommandText = sql.ToString();
            await set.ExecuteNonQueryAsync(cancellationToken);
        }

        var rows = new TupleBuffer();
        var operations = new List<byte>();
        var count = 0L;
        var fields = new FieldSlice[plan.Columns.Count + 1];
        await using (var stream = await connection.BeginRawBinaryCopyAsync(CopySql(source, plan, keyColumns), cancellationToken))
        {
            var reader = new CopyStreamReader(stream);
            while (await reader.ReadAsync(cancellationToken))
            {
                var tuple = reader.Current;
                // Cut by bytes as well as by rows, as every source does (batch_bytes).
                BatchCut.CheckRow(tuple.Length, job.Name);
                if (BatchCut.IsFullBefore(rows, tuple.Length, job.BatchBytes))
                {
                    await EmitAsync();
                }

                new TupleReader(tuple.Span).TryRead(fields, out _, out _);
                rows.BeginTuple(plan.Columns.Count);
                for (var f = 0; f < plan.Columns.Count; f++)
                {
                    rows.AppendField(fields[f].Of(tuple.Span), fields[f].IsNull);
                }

                var gone = fields[plan.Columns.Count].Of(tuple.Span)[0] != 0;
                operations.Add(gone ? RowOperations.Delete : RowOperations.Upsert);
                if (rows.RowCount >= job.BatchSize)
                {
                    await EmitAsync();
                }
            }
        }

        if (rows.RowCount > 0)
        {
            await EmitAsync();
        }

        await transaction.CommitAsync(cancellationToken);
        return count;

        async ValueTask EmitAsync()
        {
            var batch = new RecordBatch(plan.BatchColumns, rows.RowCount, rows.ToArray(), [.. operations]);
            count += batch.RowCount;
            rows.Clear();
            operations.Clear();
            await onBatch(batch, cancellationToken);
        }
    }

    /// <summary>
    /// The distinct fact keys (as text, one value per primary-key column) the changed rows name: a
    /// fact_key's values as they are, a fact_keys_query's rows. A key with a NULL names no fact.
    /// </summary>
    private static async Task<List<string?[]>> FactKeysAsync(
        NpgsqlConnection connection, NpgsqlTransaction transaction, SourceSpec source, ChangedKeySet changed, CancellationToken cancellationToken)
    {
        var dependencies = source.DependsOn!;
        var keys = new ChangedKeySet(1);
        for (var d = 0; d < dependencies.Count; d++)
        {
            var rows = changed.Of(d);
            if (rows.Count == 0)
            {
                continue;
            }

            if (dependencies[d].FactKeysQuery is not { } query)
            {
                foreach (var row in rows.Where(r => Array.TrueForAll(r, v => v is not null)))
                {
                    keys.Add(new ChangedKey(0, row));
                }

                continue;
            }

            // The query's @column parameters: the changed rows' values of that column, as an array
            // literal of unknown type, which the server reads as the array type the query compares it with.
            await using var command = new NpgsqlCommand(query, connection, transaction) { AllResultTypesAreUnknown = true };
            var parameters = FactKeysQueryParameters.Of(query);
            for (var p = 0; p < parameters.Count; p++)
            {
                var column = p;
                command.Parameters.Add(new NpgsqlParameter(parameters[p], NpgsqlDbType.Unknown) { Value = ArrayLiteral(rows.Select(r => r[column]).OfType<string>()) });
            }

            await using var reader = await command.ExecuteReaderAsync(cancellationToken);
            if (reader.FieldCount != source.PrimaryKey.Count)
            {
                throw new SourceSchemaException(
                    $"fact_keys_query of {dependencies[d].Table} (depends_on) returns {reader.FieldCount} column{(reader.FieldCount == 1 ? "" : "s")}, but the fact key (primary_key) has {source.PrimaryKey.Count}: {string.Join(", ", source.PrimaryKey)}; select those, in that order.");
            }

            while (await reader.ReadAsync(cancellationToken))
            {
                var values = new string?[reader.FieldCount];
                for (var i = 0; i < values.Length; i++)
                {
                    values[i] = reader.IsDBNull(i) ? null : reader.GetString(i);
                }

                if (Array.TrueForAll(values, v => v is not null))
                {
                    keys.Add(new ChangedKey(0, values));
                }
            }
        }

        return [.. keys.Of(0)];
    }

    /// <summary>
    /// Every named key once (typed, so "42" and "042" are one), joined to the query's rows for those
    /// keys; a key with no row comes back with its key columns only and the trailing flag set.
    /// </summary>
    private static string CopySql(SourceSpec source, SourcePlan plan, IReadOnlyList<SourceColumn> keyColumns)
    {
        var typed = keyColumns.Select((c, i) => $"current_setting('sync.fact_key_{i}')::{PgTypes.SqlName(c.ValueTypeOid)}[]").ToList();
        var names = keyColumns.Select((_, i) => $"k{i}").ToList();
        var filter = string.Join(" AND ", keyColumns.Select((c, i) => $"{SqlIdentifier.Quote(c.Name)} = ANY({typed[i]})"));
        var join = string.Join(" AND ", keyColumns.Select((c, i) => $"f.{SqlIdentifier.Quote(c.Name)} = keys.{names[i]}"));
        var select = string.Join(", ", plan.Columns.Select(c =>
        {
            var key = keyColumns.ToList().FindIndex(k => k.Name == c.Name);
            var column = key >= 0 ? $"keys.{names[key]}" : $"f.{SqlIdentifier.Quote(c.Name)}";
            return c switch
            {
                { IsBinary: false } => $"{column}::text",
                { CarriedAs: { } carried } when carried != c.TypeOid && key < 0 => $"CAST({column} AS {PgTypes.SqlName(carried)})",
                _ => column,
            };
        }));
        return $"""
            COPY (
              WITH keys AS (SELECT DISTINCT * FROM unnest({string.Join(", ", typed)}) AS u({string.Join(", ", names)})),
                   found AS MATERIALIZED (SELECT *, true AS {Found} FROM {PostgresSchema.SourceRelation(source)} WHERE {filter})
              SELECT {select}, f.{Found} IS NULL
              FROM keys LEFT JOIN found f ON {join}
            ) TO STDOUT (FORMAT BINARY)
            """;
    }

    /// <summary>A PostgreSQL array literal of the values, each quoted: it travels as a parameter's value, never as SQL.</summary>
    private static string ArrayLiteral(IEnumerable<string> values)
    {
        var literal = new StringBuilder("{");
        foreach (var value in values)
        {
            if (literal.Length > 1)
            {
                literal.Append(',');
            }

            literal.Append('"').Append(value.Replace("\\", "\\\\", StringComparison.Ordinal).Replace("\"", "\\\"", StringComparison.Ordinal)).Append('"');
        }

        return literal.Append('}').ToString();
    }
}
