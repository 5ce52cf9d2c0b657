using Npgsql;
using Sync.Batches;
using Sync.Contracts.Jobs;

namespace Sync.Connectors.Postgres;

/// <summary>A binary COPY's rows cut into batches by count and by bytes (issue 16), for a table's read and a cdc job's first copy.</summary>
internal static class CopyBatches
{
    /// <summary>
    /// Reads the tuples of <paramref name="sql"/> (a COPY … TO STDOUT (FORMAT BINARY)) into
    /// <paramref name="rows"/> and calls <paramref name="emit"/>, which sends and clears them, before a
    /// tuple that would take them past <see cref="JobSpec.BatchBytes"/>, when they reach
    /// <see cref="JobSpec.BatchSize"/>, and at the end. A tuple no message can carry fails the read.
    /// </summary>
    /// <param name="appending">Told where each tuple starts in <paramref name="rows"/> as it is appended.</param>
    public static async Task ReadAsync(
        NpgsqlConnection connection, string sql, JobSpec job, TupleBuffer rows, Func<ValueTask> emit, CancellationToken cancellationToken, Action<int>? appending = null)
    {
        await using (var stream = await connection.BeginRawBinaryCopyAsync(sql, cancellationToken))
        {
            var reader = new CopyStreamReader(stream);
            while (await reader.ReadAsync(cancellationToken))
            {
                var tuple = reader.Current;
                BatchCut.CheckRow(tuple.Length, job.Name);
                if (BatchCut.IsFullBefore(rows, tuple.Length, job.BatchBytes))
                {
                    // The tuple stays valid in the reader's buffer: sending reads nothing from the stream.
                    await emit();
                }

                appending?.Invoke(rows.Length);
                rows.AppendTuple(tuple.Span);
                if (rows.RowCount >= job.BatchSize)
                {
                    await emit();
                }
            }
        }

        if (rows.RowCount > 0)
        {
            await emit();
        }
    }
}
