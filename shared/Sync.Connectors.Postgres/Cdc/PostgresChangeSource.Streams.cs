using System.Threading.Channels;
using Npgsql;
using Npgsql.Replication;
using Npgsql.Replication.PgOutput;
using Npgsql.Replication.PgOutput.Messages;
using NpgsqlTypes;
using Sync.Contracts;
using Sync.Contracts.Jobs;
using Sync.Jobs;

namespace Sync.Connectors.Postgres.Cdc;

/// <summary>
/// A cdc job with streams (<see cref="JobSpec.Streams"/>): one replication slot and one publication
/// follow all of its tables, and each change goes to its stream's batches, which travel with the
/// stream's job (its destination table). The watermark is the job's (<see cref="CdcStreamsPosition"/>):
/// an LSN, the tables copied, and the copy point of a table copied after the slot's first copy.
/// <list type="bullet">
/// <item>First run: the publication holds every table; the slot's exported snapshot copies them all,
/// so every copy meets the stream at the slot's consistent point.</item>
/// <item>A run finding tables of the job the watermark has not copied (streams added to the file):
/// the publication gets them, then a temporary slot's exported snapshot copies only them, as a
/// refresh (<see cref="CopyAgainAsync"/>: a destination table that held the stream before keeps no row
/// the source no longer has); that run streams nothing and keeps the LSN, each copied table with the
/// temporary slot's consistent point L. The next run streams from the LSN and passes over a copied
/// table's changes in transactions that committed before L (they are in the copy), so the copy never
/// overwrites a newer value and is never overwritten by an older one. Making the temporary slot waits
/// for every transaction open when the table was published, so each of those is in the copy.</item>
/// <item>Otherwise the run streams, as a job of one table does; a table gone from the streams is
/// dropped from the publication first, and its changes still in the WAL are passed over. A TRUNCATE of
/// some partitions of a stream's table stops the stream before its transaction: the run hands over
/// everything before it, of every stream, then copies that table again as a refresh, and keeps the LSN
/// before the truncate with that table's copy point, so the other tables lose no change and the next
/// run passes over the truncate (it is in the copy) instead of meeting it again.</item>
/// </list>
/// </summary>
public sealed partial class PostgresChangeSource
{
    public async Task<ExtractionSummary> ExtractStreamsAsync(
        JobSpec job,
        CursorPosition? after,
        long fence,
        Func<JobSpec, RecordBatch, CursorPosition, CancellationToken, ValueTask> onBatch,
        CancellationToken cancellationToken)
    {
        var streams = job.Streams ?? throw new ArgumentException($"Job {job.Name} has no streams.", nameof(job));
        var source = job.Source;
        var connection = await resilience.ExecuteAsync(source.Connection, async ct => await connections.Get(source.Connection).OpenConnectionAsync(ct), cancellationToken);
        await using (connection)
        {
            await CdcSlot.CheckSourceAsync(connection, source.Connection, cancellationToken);
            var plans = new List<StreamPlan>(streams.Count);
            foreach (var stream in streams)
            {
                plans.Add(await PlanStreamAsync(connection, stream, cancellationToken));
            }

            await WarnOnLagAsync(connection, job.Name, cancellationToken);
            var tables = plans.Select(p => p.Job.Source.Table).ToList();
            var summary = new ExtractionSummary();
            if (CdcStreamsPosition.TryRead(after) is not { } position)
            {
                await CdcSlotClaim.AcquireAsync(connection, job.Name, cancellationToken);
                try
                {
                    await CdcSlotClaim.CheckAsync(connection, job.Name, fence, cancellationToken);
                    await SnapshotStreamsAsync(connection, job, plans, fence, summary, onBatch, cancellationToken);
                }
                finally
                {
                    await ReleaseClaimAsync(connection, job.Name);
                }
            }
            else if (plans.Where(p => !position.Tables.Contains(p.Job.Source.Table)).ToList() is { Count: > 0 } added)
            {
                await SetPublicationAsync(connection, job, tables, cancellationToken);
                await CopyAgainAsync(
                    job, added, at => CdcStreamsPosition.Of(position.Lsn, tables, CdcStreamsPosition.With(position.CopiedAt, added.Select(p => p.Job.Source.Table), at)),
                    summary, onBatch, cancellationToken);
            }
            else
            {
                await SetPublicationAsync(connection, job, tables, cancellationToken);
                if (await StreamStreamsAsync(job, plans, position.Lsn, position.CopiedAt, summary, onBatch, cancellationToken) is { } truncated)
                {
                    var again = truncated.Streams.Select(p => p.Job.Source.Table).ToList();
                    LogRefreshing(truncated.Partitions, string.Join(", ", again));
                    await CopyAgainAsync(
                        job, truncated.Streams, at => CdcStreamsPosition.Of(truncated.End, tables, CdcStreamsPosition.With(position.CopiedAt, again, at)),
                        summary, onBatch, cancellationToken);
                }
            }

            return summary;
        }
    }

    private static async Task<StreamPlan> PlanStreamAsync(NpgsqlConnection connection, JobSpec stream, CancellationToken cancellationToken)
    {
        await CdcReplicaIdentity.CheckAsync(connection, stream, cancellationToken);
        var source = stream.Source;
        var table = await PostgresSchema.GetColumnsAsync(connection, source.Table, cancellationToken)
            ?? throw new SourceSchemaException($"Source table {source.Table} of stream {stream.Name} does not exist.");
        var (plan, carries) = await CdcTypes.ResolveAsync(
            connection,
            SourcePlan.Resolve(source.Cursor.Length == 0 ? source with { Cursor = source.PrimaryKey[0] } : source, stream.Transform, Streamed(stream, table)),
            cancellationToken);
        await using var oid = new NpgsqlCommand("SELECT to_regclass($1)::oid", connection);
        oid.Parameters.Add(new NpgsqlParameter { Value = SqlIdentifier.QuoteQualified(source.Table) });
        return new StreamPlan(stream, plan, carries, (uint)(await oid.ExecuteScalarAsync(cancellationToken))!);
    }

    // Altered only when its tables differ: ALTER PUBLICATION invalidates every session's relation cache.
    private static async Task SetPublicationAsync(NpgsqlConnection connection, JobSpec job, IReadOnlyList<string> tables, CancellationToken cancellationToken)
    {
        await using var command = new NpgsqlCommand(
            """
            SELECT n.nspname || '.' || c.relname
            FROM pg_publication p
            JOIN pg_publication_rel r ON r.prpubid = p.oid
            JOIN pg_class c ON c.oid = r.prrelid
            JOIN pg_namespace n ON n.oid = c.relnamespace
            WHERE p.pubname = $1
            """,
            connection);
        command.Parameters.Add(new NpgsqlParameter { Value = CdcSlot.NameOf(job.Name) });
        var published = new HashSet<string>(StringComparer.Ordinal);
        await using (var reader = await command.ExecuteReaderAsync(cancellationToken))
        {
            while (await reader.ReadAsync(cancellationToken))
            {
                published.Add(reader.GetString(0));
            }
        }

        if (!published.SetEquals(tables))
        {
            await CdcSlot.EnsurePublicationAsync(connection, job, cancellationToken);
        }
    }

    private async Task SnapshotStreamsAsync(
        NpgsqlConnection connection, JobSpec job, IReadOnlyList<StreamPlan> plans, long fence, ExtractionSummary summary,
        Func<JobSpec, RecordBatch, CursorPosition, CancellationToken, ValueTask> onBatch, CancellationToken cancellationToken)
    {
        await CdcSlot.DropAsync(connection, job.Name, cancellationToken);
        await CdcSlot.EnsurePublicationAsync(connection, job, cancellationToken);
        if (fence > 0)
        {
            await CdcSlotClaim.MarkAsync(connection, job.Name, fence, copied: false, cancellationToken);
        }

        await using var replication = new LogicalReplicationConnection(connections.GetConnectionString(job.Source.Connection));
        await replication.Open(cancellationToken);
        var slot = await replication.CreatePgOutputReplicationSlot(
            CdcSlot.NameOf(job.Name), slotSnapshotInitMode: LogicalSlotSnapshotInitMode.Export, cancellationToken: cancellationToken);
        LogSlotCreated(CdcSlot.NameOf(job.Name), slot.ConsistentPoint.ToString());
        var high = CdcStreamsPosition.Of(slot.ConsistentPoint, plans.Select(p => p.Job.Source.Table));
        await CopyInSnapshotAsync(connection, slot.SnapshotName, plans, high, refresh: false, summary, onBatch, cancellationToken);
        if (fence > 0)
        {
            await CdcSlotClaim.MarkAsync(connection, job.Name, fence, copied: true, cancellationToken);
        }

        summary.KeepAtLeast(high);
    }

    /// <summary>
    /// Streams from the watermark, passing over each stream's changes its copy holds (<paramref name="copiedAt"/>).
    /// Returns null, or the streams whose partitions a TRUNCATE of some partitions truncated: the stream
    /// then stopped before that transaction, having sent everything before it (up to <see cref="Truncated.End"/>),
    /// and those tables are copied again (<see cref="CopyAgainAsync"/>).
    /// </summary>
    private async Task<Truncated?> StreamStreamsAsync(
        JobSpec job, IReadOnlyList<StreamPlan> plans, NpgsqlLogSequenceNumber watermark, IReadOnlyDictionary<string, NpgsqlLogSequenceNumber> copiedAt,
        ExtractionSummary summary, Func<JobSpec, RecordBatch, CursorPosition, CancellationToken, ValueTask> onBatch, CancellationToken cancellationToken)
    {
        var tables = plans.Select(p => p.Job.Source.Table).ToList();
        var texts = new List<TextConversion?>(plans.Count);
        await using var routing = new StreamRouting(plans, await connections.Get(job.Source.Connection).OpenConnectionAsync(cancellationToken));
        try
        {
            foreach (var stream in plans)
            {
                texts.Add(await TextConversion.OpenAsync(connections.Get(job.Source.Connection), stream.Job.Source.Table, stream.Plan, stream.Carries, cancellationToken));
            }

            var clock = new RunClock();
            await using var replication = await OpenReplicationAsync(job, watermark, clock, cancellationToken);

            using var stop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            var channel = Channel.CreateBounded<StreamsTransaction>(new BoundedChannelOptions(64) { SingleReader = true, SingleWriter = true });
            var decoders = plans.Select((p, i) => new ChangeDecoder(p.Plan, p.Job.Source, p.Carries, texts[i], readsEveryColumn: p.Job.Transform is { Columns.Count: 0, Code: null })).ToList();
            var batchers = plans.Select(p => new ChangeBatcher(p.Plan.BatchColumns, p.Job.BatchSize, p.Job.BatchBytes, p.Job.Name)).ToList();
            var copies = tables.Select(t => copiedAt.TryGetValue(t, out var at) ? at : (NpgsqlLogSequenceNumber?)null).ToList();
            var reader = new ReaderState();
            NpgsqlLogSequenceNumber? lastEnd = null;
            var reading = ReadStreamsAsync(replication, job, routing, decoders, copies, watermark, channel.Writer, reader, stop.Token);
            await PaceAsync(channel.Reader, reading, replication, stop, TakeAsync, FlushAsync, cancellationToken, clock);
            await FlushAsync();
            if (reader is { Truncated: { } partitions, TruncatedStreams: { } truncated } && channel.Reader.Completion.IsCompleted)
            {
                return new Truncated(partitions, [.. truncated.Select(i => plans[i])], lastEnd ?? watermark);
            }

            summary.KeepAtLeast(CdcStreamsPosition.Of(QuietEnd(replication, reader, channel.Reader.TryPeek(out _), lastEnd ?? watermark), tables, copiedAt));
            return null;

            async ValueTask<Gathered> TakeAsync(StreamsTransaction transaction)
            {
                var emitted = false;
                foreach (var (stream, changes) in transaction.Changes)
                {
                    foreach (var full in batchers[stream].Add(new SourceTransaction(changes, transaction.EndLsn, transaction.CommittedAt)))
                    {
                        await EmitAsync(stream, full);
                        emitted = true;
                    }
                }

                lastEnd = transaction.EndLsn;
                return !emitted ? Gathered.Unchanged : batchers.Any(b => b.Count > 0) ? Gathered.Restarted : Gathered.Emptied;
            }

            async ValueTask FlushAsync()
            {
                for (var stream = 0; stream < batchers.Count; stream++)
                {
                    if (batchers[stream].Take() is { } batch)
                    {
                        await EmitAsync(stream, batch);
                    }
                }
            }

            async ValueTask EmitAsync(int stream, RecordBatch batch)
            {
                var position = CdcStreamsPosition.Of(lastEnd ?? watermark, tables, copiedAt);

                summary.Add(batch.RowCount, position);
                await onBatch(plans[stream].Job, batch, position, cancellationToken);
            }
        }
        finally
        {
            foreach (var text in texts.OfType<TextConversion>())
            {
                await text.DisposeAsync();
            }
        }
    }

    /// <param name="copiedAt">By stream, the consistent point of a copy made after the slot's: the stream's changes in transactions that committed before it are in the copy, and passed over.</param>
    private static async Task ReadStreamsAsync(
        LogicalReplicationConnection replication, JobSpec job, StreamRouting routing, IReadOnlyList<ChangeDecoder> decoders, IReadOnlyList<NpgsqlLogSequenceNumber?> copiedAt,
        NpgsqlLogSequenceNumber from, ChannelWriter<StreamsTransaction> writer, ReaderState state, CancellationToken cancellationToken)
    {
        await Task.Yield();
        var slot = new PgOutputReplicationSlot(CdcSlot.NameOf(job.Name));
        var publication = new PgOutputReplicationOptions(CdcSlot.NameOf(job.Name), PgOutputProtocolVersion.V1, binary: true);
        var touched = new SortedSet<int>();
        // Of the open transaction: the streams its changes are in the copy of, and those whose partitions it truncates.
        var copied = new bool[decoders.Count];
        var truncated = new SortedSet<int>();
        var partitions = new List<string>();
        await foreach (var message in replication.StartReplication(slot, publication, cancellationToken, from))
        {
            switch (message)
            {
                case RelationMessage relation:
                    if (await routing.MapAsync(relation, cancellationToken) is { } mapped)
                    {
                        decoders[mapped].Map(relation);
                    }

                    break;
                case BeginMessage begin:
                    state.InTransaction = true;
                    // The copy's snapshot holds exactly the transactions whose commit record is before its
                    // consistent point (those a slot made there passes over), and a Begin names that record.
                    for (var i = 0; i < copied.Length; i++)
                    {
                        copied[i] = copiedAt[i] is { } at && begin.TransactionFinalLsn < at;
                    }

                    break;
                case InsertMessage insert when Follow(insert.Relation) is { } i:
                    touched.Add(i);
                    decoders[i].AddUpsert(await decoders[i].ReadAsync(insert.Relation, insert.NewRow, null, cancellationToken));
                    break;
                case FullUpdateMessage full when Follow(full.Relation) is { } i:
                    touched.Add(i);
                    var old = await decoders[i].ReadAsync(full.Relation, full.OldRow, null, cancellationToken);
                    decoders[i].AddUpdate(old.Values, await decoders[i].ReadAsync(full.Relation, full.NewRow, old.Values, cancellationToken));
                    break;
                case IndexUpdateMessage keyed when Follow(keyed.Relation) is { } i:
                    touched.Add(i);
                    var oldKey = await decoders[i].ReadAsync(keyed.Relation, keyed.Key, null, cancellationToken);
                    decoders[i].AddUpdate(oldKey.Values, await decoders[i].ReadAsync(keyed.Relation, keyed.NewRow, null, cancellationToken));
                    break;
                case UpdateMessage update when Follow(update.Relation) is { } i:
                    touched.Add(i);
                    decoders[i].AddUpsert(await decoders[i].ReadAsync(update.Relation, update.NewRow, null, cancellationToken));
                    break;
                case KeyDeleteMessage delete when Follow(delete.Relation) is { } i:
                    touched.Add(i);
                    decoders[i].AddDelete(await decoders[i].ReadAsync(delete.Relation, delete.Key, null, cancellationToken));
                    break;
                case FullDeleteMessage delete when Follow(delete.Relation) is { } i:
                    touched.Add(i);
                    decoders[i].AddDelete(await decoders[i].ReadAsync(delete.Relation, delete.OldRow, null, cancellationToken));
                    break;
                case TruncateMessage truncate:
                    foreach (var relation in truncate.Relations)
                    {
                        if (routing.Of(relation) is not { } t || copied[t] || routing.Stream(t).Destination.Truncate != TruncateMode.Apply)
                        {
                            continue;
                        }

                        if (relation.RelationId != routing.TableOid(t))
                        {
                            // As for a job of one table (PostgresChangeSource.ReadAsync): the destination cannot tell a
                            // partition's rows apart, so the table is copied again instead. The rest of this transaction
                            // is read only for other such truncates; none of it is sent (it is read again by the next
                            // run, past the copy for this table), so the other tables lose none of its changes.
                            truncated.Add(t);
                            partitions.Add($"{relation.Namespace}.{relation.RelationName} (in the WAL at {truncate.WalStart})");
                            continue;
                        }

                        touched.Add(t);
                        decoders[t].AddTruncate();
                    }

                    break;
                case CommitMessage when truncated.Count > 0:
                    state.Truncated = string.Join(", ", partitions);
                    state.TruncatedStreams = [.. truncated];
                    writer.Complete();
                    await Task.Delay(Timeout.Infinite, cancellationToken);
                    break;
                case CommitMessage commit:
                    var changes = new List<(int Stream, IReadOnlyList<RowChange> Changes)>(touched.Count);
                    foreach (var i in touched)
                    {
                        changes.Add((i, await decoders[i].CompleteAsync(cancellationToken)));
                    }

                    touched.Clear();
                    await writer.WriteAsync(new StreamsTransaction(changes, commit.TransactionEndLsn, commit.TransactionCommitTimestamp), cancellationToken);
                    state.InTransaction = false;
                    break;
            }
        }

        // The stream a change of the relation goes to: none for a relation of no stream, for a change the
        // stream's copy holds, and once the transaction truncates some partitions (it is not sent).
        int? Follow(RelationMessage relation) => routing.Of(relation) is { } i && !copied[i] && truncated.Count == 0 ? i : null;
    }

    /// <summary>A TRUNCATE of some partitions: the partitions, their streams, and the end of the last transaction sent before it.</summary>
    private sealed record Truncated(string Partitions, IReadOnlyList<StreamPlan> Streams, NpgsqlLogSequenceNumber End);

    /// <summary>A stream's job, the plan its table is read with, and the table's OID.</summary>
    private sealed record StreamPlan(JobSpec Job, SourcePlan Plan, ValueCarry[] Carries, uint TableOid);

    /// <summary>The changes of one committed source transaction, by stream (an index into the job's streams).</summary>
    private sealed record StreamsTransaction(IReadOnlyList<(int Stream, IReadOnlyList<RowChange> Changes)> Changes, NpgsqlLogSequenceNumber EndLsn, DateTimeOffset CommittedAt);

    /// <summary>
    /// Which stream a relation of the stream belongs to: a stream's table by its name, a partition by
    /// its root's (pgoutput sends a partition's changes under the partition, publish_via_partition_root
    /// being off: with it on, a TRUNCATE of one partition would not be sent at all). A relation of no
    /// stream (a table dropped from the streams, whose changes are still in the WAL) is passed over.
    /// </summary>
    private sealed class StreamRouting(IReadOnlyList<StreamPlan> plans, NpgsqlConnection catalog) : IAsyncDisposable
    {
        private readonly Dictionary<uint, int?> _relations = [];

        public int? Of(RelationMessage relation) => _relations.GetValueOrDefault(relation.RelationId);

        public JobSpec Stream(int stream) => plans[stream].Job;

        public uint TableOid(int stream) => plans[stream].TableOid;

        public async Task<int?> MapAsync(RelationMessage relation, CancellationToken cancellationToken)
        {
            var name = $"{relation.Namespace}.{relation.RelationName}";
            var stream = IndexOf(name);
            if (stream is null)
            {
                await using var command = new NpgsqlCommand(
                    """
                    SELECT n.nspname || '.' || c.relname
                    FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
                    WHERE c.oid = pg_partition_root($1::oid::regclass)
                    """,
                    catalog);
                command.Parameters.Add(new NpgsqlParameter { Value = (long)relation.RelationId, NpgsqlDbType = NpgsqlDbType.Bigint });
                if (await command.ExecuteScalarAsync(cancellationToken) is string root)
                {
                    stream = IndexOf(root);
                }
            }

            _relations[relation.RelationId] = stream;
            return stream;
        }

        public ValueTask DisposeAsync() => catalog.DisposeAsync();

        private int? IndexOf(string table)
        {
            for (var i = 0; i < plans.Count; i++)
            {
                if (plans[i].Job.Source.Table == table)
                {
                    return i;
                }
            }

            return null;
        }
    }
}
