using System.Data;
using System.Threading.Channels;
using Npgsql;
using Npgsql.Replication;
using Npgsql.Replication.PgOutput;
using Npgsql.Replication.PgOutput.Messages;
using NpgsqlTypes;
using Sync.Batches;
using Sync.Contracts;
using Sync.Contracts.Jobs;
using Sync.Jobs;

namespace Sync.Connectors.Postgres.Cdc;

/// <summary>
/// A cdc job with streams (<see cref="JobSpec.Streams"/>): one replication slot and one publication
/// follow all of its tables, and each change goes to its stream's batches, which travel with the
/// stream's job (its destination table). The watermark is the job's (<see cref="CdcStreamsPosition"/>):
/// an LSN and the tables copied.
/// <list type="bullet">
/// <item>First run: the publication holds every table; the slot's exported snapshot copies them all,
/// so every copy meets the stream at the slot's consistent point.</item>
/// <item>A run finding tables of the job the watermark has not copied (streams added to the file):
/// the publication gets them, then a temporary slot's exported snapshot copies only them; that run
/// streams nothing and keeps the LSN. The next run streams from it: a new table's changes since it was
/// published replay over its copy (the overlap idempotent loading makes harmless), and the changes
/// after the copy's snapshot come after the copy, so the copy never overwrites a newer value. Making
/// the temporary slot waits for every transaction open when the table was published, so each of
/// those is in the copy.</item>
/// <item>Otherwise the run streams, as a job of one table does; a table gone from the streams is
/// dropped from the publication first, and its changes still in the WAL are passed over.</item>
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
                await CopyAddedAsync(job, added, CdcStreamsPosition.Of(position.Lsn, tables), summary, onBatch, cancellationToken);
            }
            else
            {
                await SetPublicationAsync(connection, job, tables, cancellationToken);
                await StreamStreamsAsync(job, plans, position.Lsn, summary, onBatch, cancellationToken);
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
        await CopyInSnapshotAsync(connection, slot.SnapshotName, plans, high, summary, onBatch, cancellationToken);
        if (fence > 0)
        {
            await CdcSlotClaim.MarkAsync(connection, job.Name, fence, copied: true, cancellationToken);
        }

        summary.KeepAtLeast(high);
    }

    private async Task CopyAddedAsync(
        JobSpec job, IReadOnlyList<StreamPlan> added, CursorPosition high, ExtractionSummary summary,
        Func<JobSpec, RecordBatch, CursorPosition, CancellationToken, ValueTask> onBatch, CancellationToken cancellationToken)
    {
        // A temporary slot goes with its connection; it is made only for its snapshot, and a name of its
        // own per extraction keeps a redelivered one from meeting it.
        await using var replication = new LogicalReplicationConnection(connections.GetConnectionString(job.Source.Connection));
        await replication.Open(cancellationToken);
        var slot = await replication.CreatePgOutputReplicationSlot(
            $"sync_copy_{Guid.NewGuid():N}", temporarySlot: true, slotSnapshotInitMode: LogicalSlotSnapshotInitMode.Export, cancellationToken: cancellationToken);
        await using var connection = await connections.Get(job.Source.Connection).OpenConnectionAsync(cancellationToken);
        await CopyInSnapshotAsync(connection, slot.SnapshotName, added, high, summary, onBatch, cancellationToken);
        summary.KeepAtLeast(high);
    }

    // The exported snapshot lives only while its replication connection stays open and idle: the caller keeps it so.
    private static async Task CopyInSnapshotAsync(
        NpgsqlConnection connection, string? snapshotName, IReadOnlyList<StreamPlan> plans, CursorPosition high, ExtractionSummary summary,
        Func<JobSpec, RecordBatch, CursorPosition, CancellationToken, ValueTask> onBatch, CancellationToken cancellationToken)
    {
        await using var transaction = await connection.BeginTransactionAsync(IsolationLevel.RepeatableRead, cancellationToken);
        // SET TRANSACTION SNAPSHOT takes no parameter; the name is the server's, checked to be one.
        var snapshot = snapshotName is { } name && SnapshotName().IsMatch(name)
            ? name
            : throw new InvalidOperationException($"The replication slot returned no usable snapshot name ({snapshotName}).");
        await using (var set = new NpgsqlCommand($"SET TRANSACTION SNAPSHOT '{snapshot}'", connection, transaction))
        {
            await set.ExecuteNonQueryAsync(cancellationToken);
        }

        foreach (var stream in plans)
        {
            var rows = new TupleBuffer();
            var sql = PostgresSource.BuildCopySql(stream.Job.Source with { Cursor = stream.Plan.Columns[0].Name, Lookback = TimeSpan.Zero }, stream.Plan, hasAfter: false, CursorBound.None);
            await CopyBatches.ReadAsync(connection, sql, stream.Job, rows, EmitAsync, cancellationToken);

            async ValueTask EmitAsync()
            {
                var batch = new RecordBatch(stream.Plan.BatchColumns, rows.RowCount, rows.ToArray());
                rows.Clear();
                summary.Add(batch.RowCount, high);
                await onBatch(stream.Job, batch, high, cancellationToken);
            }
        }

        await transaction.CommitAsync(cancellationToken);
    }

    private async Task StreamStreamsAsync(
        JobSpec job, IReadOnlyList<StreamPlan> plans, NpgsqlLogSequenceNumber watermark, ExtractionSummary summary,
        Func<JobSpec, RecordBatch, CursorPosition, CancellationToken, ValueTask> onBatch, CancellationToken cancellationToken)
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

            await using var replication = await OpenReplicationAsync(job, cancellationToken);
            replication.SetReplicationStatus(watermark);
            replication.WalReceiverStatusInterval = TimeSpan.FromSeconds(1);

            using var stop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            var channel = Channel.CreateBounded<StreamsTransaction>(new BoundedChannelOptions(64) { SingleReader = true, SingleWriter = true });
            var decoders = plans.Select((p, i) => new ChangeDecoder(p.Plan, p.Job.Source, p.Carries, texts[i], readsEveryColumn: p.Job.Transform is { Columns.Count: 0, Code: null })).ToList();
            var batchers = plans.Select(p => new ChangeBatcher(p.Plan.BatchColumns, p.Job.BatchSize, p.Job.BatchBytes, p.Job.Name)).ToList();
            var reader = new ReaderState();
            NpgsqlLogSequenceNumber? lastEnd = null;
            var reading = ReadStreamsAsync(replication, job, routing, decoders, watermark, channel.Writer, reader, stop.Token);
            await PaceAsync(channel.Reader, reading, replication, stop, TakeAsync, FlushAsync, cancellationToken);
            await FlushAsync();
            summary.KeepAtLeast(CdcStreamsPosition.Of(QuietEnd(replication, reader, channel.Reader.TryPeek(out _), lastEnd ?? watermark), tables));

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
                var position = CdcStreamsPosition.Of(lastEnd ?? watermark, tables);

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

    private static async Task ReadStreamsAsync(
        LogicalReplicationConnection replication, JobSpec job, StreamRouting routing, IReadOnlyList<ChangeDecoder> decoders, NpgsqlLogSequenceNumber from,
        ChannelWriter<StreamsTransaction> writer, ReaderState state, CancellationToken cancellationToken)
    {
        await Task.Yield();
        var slot = new PgOutputReplicationSlot(CdcSlot.NameOf(job.Name));
        var publication = new PgOutputReplicationOptions(CdcSlot.NameOf(job.Name), PgOutputProtocolVersion.V1, binary: true);
        var touched = new SortedSet<int>();
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
                case BeginMessage:
                    state.InTransaction = true;
                    break;
                case InsertMessage insert when routing.Of(insert.Relation) is { } i:
                    touched.Add(i);
                    decoders[i].AddUpsert(await decoders[i].ReadAsync(insert.Relation, insert.NewRow, null, cancellationToken));
                    break;
                case FullUpdateMessage full when routing.Of(full.Relation) is { } i:
                    touched.Add(i);
                    var old = await decoders[i].ReadAsync(full.Relation, full.OldRow, null, cancellationToken);
                    decoders[i].AddUpdate(old.Values, await decoders[i].ReadAsync(full.Relation, full.NewRow, old.Values, cancellationToken));
                    break;
                case IndexUpdateMessage keyed when routing.Of(keyed.Relation) is { } i:
                    touched.Add(i);
                    var oldKey = await decoders[i].ReadAsync(keyed.Relation, keyed.Key, null, cancellationToken);
                    decoders[i].AddUpdate(oldKey.Values, await decoders[i].ReadAsync(keyed.Relation, keyed.NewRow, null, cancellationToken));
                    break;
                case UpdateMessage update when routing.Of(update.Relation) is { } i:
                    touched.Add(i);
                    decoders[i].AddUpsert(await decoders[i].ReadAsync(update.Relation, update.NewRow, null, cancellationToken));
                    break;
                case KeyDeleteMessage delete when routing.Of(delete.Relation) is { } i:
                    touched.Add(i);
                    decoders[i].AddDelete(await decoders[i].ReadAsync(delete.Relation, delete.Key, null, cancellationToken));
                    break;
                case FullDeleteMessage delete when routing.Of(delete.Relation) is { } i:
                    touched.Add(i);
                    decoders[i].AddDelete(await decoders[i].ReadAsync(delete.Relation, delete.OldRow, null, cancellationToken));
                    break;
                case TruncateMessage truncate:
                    foreach (var relation in truncate.Relations)
                    {
                        if (routing.Of(relation) is not { } t || routing.Stream(t).Destination.Truncate != TruncateMode.Apply)
                        {
                            continue;
                        }

                        if (relation.RelationId != routing.TableOid(t))
                        {
                            // As for a job of one table (PostgresChangeSource.ReadAsync): the destination cannot tell a partition's rows apart.
                            throw new SourceSchemaException(
                                $"A TRUNCATE of partition {relation.Namespace}.{relation.RelationName} of {routing.Stream(t).Source.Table} (in the WAL at {truncate.WalStart}) cannot be applied: the destination cannot tell that partition's rows apart, and truncating the whole destination table would lose the other partitions' rows. " +
                                $"To copy the tables again: pause the job, empty the destination tables, reset the job's watermark (DELETE /api/jobs/{job.Name}/watermark), resume.");
                        }

                        touched.Add(t);
                        decoders[t].AddTruncate();
                    }

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
    }

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
