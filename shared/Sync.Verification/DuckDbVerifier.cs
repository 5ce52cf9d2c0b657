using System.Data;
using Npgsql;
using Sync.Connectors;
using Sync.Connectors.DuckDb;
using Sync.Connectors.Postgres;
using Sync.Connectors.Postgres.Verification;
using Sync.Contracts;
using Sync.Contracts.Jobs;
using Sync.Jobs;

namespace Sync.Verification;

/// <summary>
/// Compares a job's PostgreSQL source with its DuckDB destination (issue 15): the same plan, buckets
/// and report as <see cref="PostgresVerifier"/>, but the two engines hash differently, so each side's
/// rows, in the same normal form (the source renders its own in SQL, the DuckDB values are rendered in
/// .NET), are hashed here. One pass per side gives every bucket's count and hash sum; a second pass
/// reads only the rows of the buckets that differ. It runs in the Loader, which holds the file: DuckDB
/// lets one process open it for writing, and holding the file's lease keeps loads out until it is done,
/// so the destination is one consistent state.
/// </summary>
public sealed class DuckDbVerifier(ConnectionCatalog connections, DuckDbConnections files)
{
    public Task<JobVerified> VerifyAsync(VerifyJob request, CancellationToken cancellationToken) =>
        VerificationRun.RunAsync(request, DestinationKind.DuckDb, "is not a DuckDB file", () => CompareAsync(request.Job, request.Watermark, cancellationToken));

    private async Task<Comparison> CompareAsync(JobSpec job, string? watermark, CancellationToken cancellationToken)
    {
        using var lease = await files.AcquireAsync(job.Destination.Connection, cancellationToken);
        var duck = lease.Connection;
        await using var source = await connections.Get(job.Source.Connection).OpenConnectionAsync(cancellationToken);
        var sourceColumns = job.Source.Query is { } query
            ? await PostgresSchema.GetQueryColumnsAsync(source, query, cancellationToken)
            : await PostgresSchema.GetColumnsAsync(source, job.Source.Table, cancellationToken)
                ?? throw new VerifyRefusedException($"source table {job.Source.Table} does not exist");
        var destinationColumns = await DuckDbVerifyRows.ColumnsAsync(duck, job.Destination.Table, cancellationToken)
            ?? throw new VerifyRefusedException($"destination table {job.Destination.Table} does not exist");
        var plan = VerifyPlan.Create(job, sourceColumns, destinationColumns, job.Mode == SyncMode.Incremental ? watermark : null);
        var relation = DuckDbVerifyRows.Relation(job.Destination.Table);

        await using var snapshot = await source.BeginTransactionAsync(IsolationLevel.RepeatableRead, cancellationToken);
        await VerifyQueries.UseIsoDatesAsync(source, cancellationToken);
        var mask = BucketMask(await VerifyQueries.CountAsync(source, plan.Source, cancellationToken));
        var sourceDigests = new Dictionary<long, BucketDigest>();
        var destinationDigests = new Dictionary<long, BucketDigest>();
        await foreach (var row in SourceRowsAsync(source, plan, cancellationToken))
        {
            Add(sourceDigests, row, mask);
        }

        await foreach (var row in DuckDbVerifyRows.ReadAsync(duck, plan, relation, cancellationToken))
        {
            Add(destinationDigests, row, mask);
        }

        var differing = sourceDigests.Keys.Union(destinationDigests.Keys)
            .Where(b => sourceDigests.GetValueOrDefault(b) != destinationDigests.GetValueOrDefault(b))
            .ToHashSet();
        var comparison = new Comparison(plan, sourceDigests.Values.Sum(d => d.Rows), destinationDigests.Values.Sum(d => d.Rows));
        if (differing.Count == 0)
        {
            return comparison;
        }

        var sourceLeaves = new List<LeafRow>();
        var destinationLeaves = new List<LeafRow>();
        await foreach (var row in SourceRowsAsync(source, plan, cancellationToken))
        {
            if (differing.Contains(RowHashes.Bucket(row.KeyText, mask)))
            {
                sourceLeaves.Add(row);
            }
        }

        await foreach (var row in DuckDbVerifyRows.ReadAsync(duck, plan, relation, cancellationToken))
        {
            if (differing.Contains(RowHashes.Bucket(row.KeyText, mask)))
            {
                destinationLeaves.Add(row);
            }
        }

        comparison.Classify(sourceLeaves, destinationLeaves);
        if (watermark is not null && job.Mode == SyncMode.Incremental && comparison.ExtraKeys.Count > 0)
        {
            // As for a PostgreSQL destination: a row whose source row has since moved past the watermark is not extra.
            comparison.Forget(await VerifyQueries.ExistingKeysAsync(source, plan.Source, comparison.ExtraKeys, cancellationToken));
        }

        return comparison;
    }

    // The source's normal form comes from its own SQL, as for a PostgreSQL destination; the key text is
    // made in .NET, in PostgreSQL's array form, so that both sides' keys match and the source finds them again.
    private static async IAsyncEnumerable<LeafRow> SourceRowsAsync(
        NpgsqlConnection source, VerifyPlan plan, [System.Runtime.CompilerServices.EnumeratorCancellation] CancellationToken cancellationToken)
    {
        var side = plan.Source;
        await using var command = new NpgsqlCommand(
            $"SELECT ARRAY[{string.Join(", ", side.Key)}]::text[], {side.ColumnsArray}::text[] FROM {side.Relation} WHERE {side.Where}", source)
        {
            CommandTimeout = 0,
        };
        foreach (var value in side.Parameters)
        {
            command.Parameters.Add(new NpgsqlParameter { Value = value });
        }

        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
        {
            var key = reader.GetFieldValue<string?[]>(0);
            yield return new LeafRow(RowHashes.KeyText(key), key, reader.GetFieldValue<string?[]>(1));
        }
    }

    private static void Add(Dictionary<long, BucketDigest> digests, LeafRow row, long mask)
    {
        var bucket = RowHashes.Bucket(row.KeyText, mask);
        var digest = digests.GetValueOrDefault(bucket);
        digests[bucket] = new BucketDigest(digest.Rows + 1, digest.HashSum + RowHashes.Row(row.Columns));
    }

    private static long BucketMask(long rows)
    {
        var buckets = 1L;
        while (buckets < PostgresVerifier.MaxBuckets && buckets * PostgresVerifier.BucketRows < rows)
        {
            buckets <<= 1;
        }

        return buckets - 1;
    }

}
