using System.Data;
using System.Text;
using Npgsql;
using Sync.Batches;
using Sync.Contracts;
using Sync.Contracts.Jobs;
using Sync.Jobs;

namespace Sync.Connectors.Postgres;

public sealed partial class PostgresSource
{
    /// <summary>
    /// The source rows with the given primary keys as they are now, in the columns and types the
    /// job's extraction reads (a cdc job's too), one batch per key: one row, or none when the row is
    /// gone. A dead letter's replay loads these instead of the image it stored (issue 14, item 6).
    /// </summary>
    /// <param name="keys">Each key's values in PostgreSQL text form, in <see cref="SourceSpec.PrimaryKey"/> order.</param>
    public async Task<IReadOnlyList<RecordBatch>> ReadKeysAsync(JobSpec job, IReadOnlyList<IReadOnlyList<string>> keys, CancellationToken cancellationToken) =>
        await resilience.ExecuteAsync(job.Source.Connection, ct => ReadKeysOnceAsync(job, keys, ct), cancellationToken);

    /// <summary>A one-row batch in <paramref name="columns"/> holding only the key (other fields null): the delete of a row that is gone.</summary>
    public static RecordBatch KeyDelete(JobSpec job, IReadOnlyList<BatchColumn> columns, IReadOnlyList<string> key)
    {
        var rows = new TupleBuffer(256);
        rows.BeginTuple(columns.Count);
        foreach (var column in columns)
        {
            var index = job.Source.PrimaryKey.ToList().IndexOf(column.Name);
            var value = index < 0 ? null : PgValueCast.Convert(PgTypes.Text, Encoding.UTF8.GetBytes(key[index]), column.TypeOid);
            rows.AppendField(value, value is null);
        }

        return new RecordBatch(columns, 1, rows.ToArray(), [RowOperations.Delete]);
    }

    private async ValueTask<IReadOnlyList<RecordBatch>> ReadKeysOnceAsync(JobSpec job, IReadOnlyList<IReadOnlyList<string>> keys, CancellationToken cancellationToken)
    {
        var source = job.Source.Cursor.Length == 0 ? job.Source with { Cursor = job.Source.PrimaryKey[0] } : job.Source;
        await using var connection = await connections.Get(source.Connection).OpenConnectionAsync(cancellationToken);
        var plan = await ResolvePlanAsync(connection, job with { Source = source }, cancellationToken);
        var types = source.PrimaryKey.Select(k => plan.Columns.First(c => c.Name == k).ValueTypeOid).ToList();
        var select = SelectList(plan);
        // COPY takes no parameters: the key values travel as transaction-local settings, as the cursor position does.
        var match = string.Join(" AND ", source.PrimaryKey.Select((k, i) => $"{SqlIdentifier.Quote(k)} = CAST(current_setting('sync.key_{i}') AS {PgTypes.SqlName(types[i])})"));
        var sql = $"COPY (SELECT {select} FROM {PostgresSchema.SourceRelation(source)} WHERE {match}) TO STDOUT (FORMAT BINARY)";

        await using var transaction = await connection.BeginTransactionAsync(IsolationLevel.RepeatableRead, cancellationToken);
        await SetReadOnlyAsync(connection, cancellationToken);
        var batches = new List<RecordBatch>(keys.Count);
        foreach (var key in keys)
        {
            await using (var settings = new NpgsqlCommand { Connection = connection })
            {
                settings.CommandText = "SELECT 1" + string.Concat(key.Select((_, i) => $", set_config('sync.key_{i}', ${i + 1}, true)"));
                foreach (var value in key)
                {
                    settings.Parameters.Add(new NpgsqlParameter { Value = value });
                }

                await settings.ExecuteNonQueryAsync(cancellationToken);
            }

            var rows = new TupleBuffer(1024);
            await using (var stream = await connection.BeginRawBinaryCopyAsync(sql, cancellationToken))
            {
                var reader = new CopyStreamReader(stream);
                while (await reader.ReadAsync(cancellationToken))
                {
                    rows.AppendTuple(reader.Current.Span);
                }
            }

            batches.Add(new RecordBatch(plan.BatchColumns, rows.RowCount, rows.ToArray()));
        }

        await transaction.CommitAsync(cancellationToken);
        return batches;
    }
}
