using System.Data;
using System.Diagnostics;
using Npgsql;
using Sync.Connectors.Postgres.Cdc;
using Sync.Contracts;
using Sync.Contracts.Jobs;

namespace Sync.Connectors.Postgres.Verification;

/// <summary>
/// Compares a job's PostgreSQL source, after its column mapping and casts, with its PostgreSQL
/// destination (issue 15). Each side hashes its own rows: the key's hash puts every row in one of
/// 2^n buckets, and one scan per side gives each bucket's row count and the sum of its rows'
/// hashes. Only the rows of buckets that differ reach .NET, where they are compared by key. The
/// buckets split the key space as data-diff's ranges do, but by hash, so any key type (composite,
/// text, uuid) splits evenly; finding a few differing keys costs a second scan, not a bisection's log n.
/// </summary>
public sealed class PostgresVerifier(ConnectionCatalog connections)
{
    /// <summary>Rows per bucket aimed at: the most a mismatched bucket sends to .NET from each side.</summary>
    public const int BucketRows = 256;

    /// <summary>Keys listed in a result; the counts are exact beyond it.</summary>
    public const int KeyLimit = 10_000;

    internal const int MaxBuckets = 1 << 16;

    /// <summary>Rounds of re-reading a cdc job's differing keys at a consistent point (see SettleAsync).</summary>
    private const int SettleRounds = 5;

    /// <summary>How long a cdc verification waits for the stream to pass its snapshot: a few runs (Cdc__RunDuration, default 10 s).</summary>
    private static readonly TimeSpan StreamWait = TimeSpan.FromMinutes(2);

    private static readonly TimeSpan StreamPoll = TimeSpan.FromMilliseconds(250);

    public Task<JobVerified> VerifyAsync(VerifyJob request, CancellationToken cancellationToken) =>
        VerificationRun.RunAsync(request, DestinationKind.Postgres, "is not verified here", () => CompareAsync(request.Job, request.Watermark, cancellationToken));

    private async Task<Comparison> CompareAsync(JobSpec job, string? watermark, CancellationToken cancellationToken)
    {
        await using var source = await connections.Get(job.Source.Connection).OpenConnectionAsync(cancellationToken);
        await using var destination = await connections.Get(job.Destination.Connection).OpenConnectionAsync(cancellationToken);
        var sourceColumns = job.Source.Query is { } query
            ? await PostgresSchema.GetQueryColumnsAsync(source, query, cancellationToken)
            : await PostgresSchema.GetColumnsAsync(source, job.Source.Table, cancellationToken)
                ?? throw new VerifyRefusedException($"source table {job.Source.Table} does not exist");
        var destinationColumns = await PostgresSchema.GetColumnsAsync(destination, job.Destination.Table, cancellationToken)
            ?? throw new VerifyRefusedException($"destination table {job.Destination.Table} does not exist");
        var plan = VerifyPlan.Create(job, sourceColumns, destinationColumns, job.Mode == SyncMode.Incremental ? watermark : null);

        // One snapshot per side: the count, the digests and the leaf rows agree with each other.
        await using var sourceSnapshot = await source.BeginTransactionAsync(IsolationLevel.RepeatableRead, cancellationToken);
        await using var destinationSnapshot = await destination.BeginTransactionAsync(IsolationLevel.RepeatableRead, cancellationToken);
        await VerifyQueries.UseIsoDatesAsync(source, cancellationToken);
        await VerifyQueries.UseIsoDatesAsync(destination, cancellationToken);
        var rows = await VerifyQueries.CountAsync(source, plan.Source, cancellationToken);
        var mask = BucketCount(rows) - 1L;
        var digests = await Task.WhenAll(
            VerifyQueries.DigestAsync(source, plan.Source, mask, cancellationToken),
            VerifyQueries.DigestAsync(destination, plan.Destination, mask, cancellationToken));
        var differing = digests[0].Keys.Union(digests[1].Keys)
            .Where(b => digests[0].GetValueOrDefault(b) != digests[1].GetValueOrDefault(b))
            .ToArray();
        var comparison = new Comparison(plan, digests[0].Values.Sum(d => d.Rows), digests[1].Values.Sum(d => d.Rows));
        if (differing.Length == 0)
        {
            return comparison;
        }

        var leaves = await Task.WhenAll(
            VerifyQueries.LeafAsync(source, plan.Source, mask, differing, cancellationToken),
            VerifyQueries.LeafAsync(destination, plan.Destination, mask, differing, cancellationToken));
        comparison.Classify(leaves[0], leaves[1]);
        if (watermark is not null && job.Mode == SyncMode.Incremental && comparison.ExtraKeys.Count > 0)
        {
            // A destination row whose source row has since moved past the watermark is not extra:
            // the next run brings it up to date.
            var moved = await VerifyQueries.ExistingKeysAsync(source, plan.Source, comparison.ExtraKeys, cancellationToken);
            comparison.Forget(moved);
        }

        if (job.Mode == SyncMode.Cdc)
        {
            await SettleAsync(job, plan, comparison, cancellationToken);
        }

        return comparison;
    }

    /// <summary>
    /// A cdc job's destination trails its source by the changes in flight, so a key that differs may
    /// only be on its way (issue 15: verify at a consistent point). Each round reads the differing keys
    /// in a source snapshot whose WAL position is known, waits until the job's slot has confirmed that
    /// position (Sync confirms only what is loaded), reads the destination's rows, then the source's
    /// again: a key whose source row did not change meanwhile is judged (a change in flight has
    /// arrived, a difference made behind the job's back has not gone); a key written again is read in
    /// the next round. After <see cref="SettleRounds"/> rounds, keys still written are judged as read.
    /// </summary>
    private async Task SettleAsync(JobSpec job, VerifyPlan plan, Comparison comparison, CancellationToken cancellationToken)
    {
        // A cdc stream (JOB.STREAM; job names hold no dot) comes through its streams job's one slot (issue 18).
        var slot = CdcSlot.NameOf(job.Name.IndexOf('.', StringComparison.Ordinal) is > 0 and var dot ? job.Name[..dot] : job.Name);
        var pending = comparison.Keys.ToHashSet(StringComparer.Ordinal);
        for (var round = 1; round <= SettleRounds && pending.Count > 0; round++)
        {
            await using var source = await connections.Get(job.Source.Connection).OpenConnectionAsync(cancellationToken);
            List<LeafRow> before;
            string lsn;
            await using (var snapshot = await source.BeginTransactionAsync(IsolationLevel.RepeatableRead, cancellationToken))
            {
                lsn = await VerifyQueries.CurrentLsnAsync(source, cancellationToken);
                await VerifyQueries.UseIsoDatesAsync(source, cancellationToken);
                before = await VerifyQueries.RowsByKeyAsync(source, plan.Source, pending, cancellationToken);
            }

            await WaitForStreamAsync(source, slot, lsn, cancellationToken);
            var destinationRows = await ReadCommittedAsync(job.Destination.Connection, plan.Destination, pending, cancellationToken);
            var after = await ReadCommittedAsync(job.Source.Connection, plan.Source, pending, cancellationToken);
            var settled = round == SettleRounds
                ? pending
                : pending.Where(key => Same(before, after, key)).ToHashSet(StringComparer.Ordinal);
            comparison.Forget(settled);
            comparison.Classify([.. before.Where(r => settled.Contains(r.KeyText))], [.. destinationRows.Where(r => settled.Contains(r.KeyText))]);
            pending.ExceptWith(settled);
        }
    }

    private static bool Same(List<LeafRow> before, List<LeafRow> after, string key) =>
        before.Where(r => r.KeyText == key).Select(r => string.Join('\u001f', r.Columns.Select(c => c ?? "\u0000")))
            .SequenceEqual(after.Where(r => r.KeyText == key).Select(r => string.Join('\u001f', r.Columns.Select(c => c ?? "\u0000"))));

    private static async Task WaitForStreamAsync(NpgsqlConnection source, string slot, string lsn, CancellationToken cancellationToken)
    {
        var waited = Stopwatch.StartNew();
        while (await VerifyQueries.SlotPassedAsync(source, slot, lsn, cancellationToken) is var passed && passed != true)
        {
            if (passed is null)
            {
                throw new VerifyRefusedException($"the cdc job has no replication slot {slot} (it has not run yet, or was removed)");
            }

            if (waited.Elapsed > StreamWait)
            {
                throw new VerifyRefusedException($"keys differ, and the cdc job's stream did not reach the verification's snapshot (WAL {lsn}) within {StreamWait.TotalSeconds:0} s to tell changes in flight from differences; is the job running?");
            }

            await Task.Delay(StreamPoll, cancellationToken);
        }
    }

    private async Task<List<LeafRow>> ReadCommittedAsync(string connection, VerifySide side, IReadOnlyCollection<string> keys, CancellationToken cancellationToken)
    {
        await using var database = await connections.Get(connection).OpenConnectionAsync(cancellationToken);
        await using var read = await database.BeginTransactionAsync(cancellationToken);
        await VerifyQueries.UseIsoDatesAsync(database, cancellationToken);
        return await VerifyQueries.RowsByKeyAsync(database, side, keys, cancellationToken);
    }

    private static int BucketCount(long rows)
    {
        var buckets = 1;
        while (buckets < MaxBuckets && (long)buckets * BucketRows < rows)
        {
            buckets <<= 1;
        }

        return buckets;
    }

}
