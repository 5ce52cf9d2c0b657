using System.Diagnostics;
using System.Text.RegularExpressions;
using System.Threading.Channels;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Npgsql;
using Npgsql.Replication;
using Npgsql.Replication.PgOutput;
using Npgsql.Replication.PgOutput.Messages;
using NpgsqlTypes;
using Sync.Connectors.Resilience;
using Sync.Contracts;
using Sync.Contracts.Jobs;

namespace Sync.Connectors.Postgres.Cdc;

/// <summary>
/// Reads a cdc job's changes. The first run (no LSN watermark) creates the publication and the
/// replication slot, and copies the table in the snapshot the slot exported, so the copy and the
/// stream meet at the slot's consistent point with no gap and no overlap; its high mark is that point.
/// Later runs confirm the slot up to the watermark (what the Coordinator committed, i.e. loaded),
/// stream from there for at most <see cref="CdcOptions.RunDuration"/>, and end at a transaction
/// boundary; their high mark is the end LSN of the last transaction they sent. Nothing is confirmed
/// past the watermark, so a crash anywhere replays from the last loaded transaction.
/// A query with depends_on (a derived job) reads its dependencies' changes instead and derives the
/// facts they name again (PostgresChangeSource.Derived.cs).
/// </summary>
public sealed partial class PostgresChangeSource(
    ConnectionCatalog connections, ConnectorResilience resilience, IOptions<CdcOptions> options, ILogger<PostgresChangeSource> logger)
{
    private const string ObjectInUse = "55006";

    private readonly CdcOptions _options = options.Value;

    public Task<ExtractionSummary> ExtractAsync(
        JobSpec job,
        CursorPosition? after,
        Func<RecordBatch, CursorPosition, CancellationToken, ValueTask> onBatch,
        CancellationToken cancellationToken) => ExtractAsync(job, after, fence: 0, onBatch, cancellationToken);

    /// <param name="fence">The run's fence: a first run's extraction leaves alone a slot its own run already copied in, or a later run made (<see cref="CdcSlotClaim"/>); 0 always makes the slot anew.</param>
    public async Task<ExtractionSummary> ExtractAsync(
        JobSpec job,
        CursorPosition? after,
        long fence,
        Func<RecordBatch, CursorPosition, CancellationToken, ValueTask> onBatch,
        CancellationToken cancellationToken)
    {
        var source = job.Source;
        var connection = await resilience.ExecuteAsync(source.Connection, async ct => await connections.Get(source.Connection).OpenConnectionAsync(ct), cancellationToken);
        await using (connection)
        {
            await CdcSlot.CheckSourceAsync(connection, source.Connection, cancellationToken);
            if (source.DependsOn is not null)
            {
                return await ExtractDerivedAsync(connection, job, after, fence, onBatch, cancellationToken);
            }

            await CdcReplicaIdentity.CheckAsync(connection, job, cancellationToken);
            var table = await PostgresSchema.GetColumnsAsync(connection, source.Table, cancellationToken)
                ?? throw new SourceSchemaException($"Source table {source.Table} does not exist.");
            var (plan, carries) = await CdcTypes.ResolveAsync(
                connection,
                SourcePlan.Resolve(source.Cursor.Length == 0 ? source with { Cursor = source.PrimaryKey[0] } : source, job.Transform, Streamed(job, table)),
                cancellationToken);

            await WarnOnLagAsync(connection, job.Name, cancellationToken);
            var summary = new ExtractionSummary();
            if (source.RangeSize > 0)
            {
                await ExtractChunkedAsync(connection, job, plan, carries, after, fence, summary, onBatch, cancellationToken);
            }
            else if (CdcPosition.TryRead(after) is not { } lsn)
            {
                await CopyFirstAsync(connection, job, plan, fence, summary, onBatch, cancellationToken);
            }
            else
            {
                var tableOid = await TableOidAsync(connection, source, cancellationToken);
                if (await StreamAsync(job, plan, carries, tableOid, lsn, summary, onBatch, cancellationToken) is { } truncated)
                {
                    LogRefreshing(truncated, job.Source.Table);
                    await RefreshAsync(job, plan, carries, tableOid, summary, onBatch, cancellationToken);
                }
            }

            return summary;
        }
    }

    private static async Task<uint> TableOidAsync(NpgsqlConnection connection, SourceSpec source, CancellationToken cancellationToken)
    {
        await using var oid = new NpgsqlCommand("SELECT to_regclass($1)::oid", connection);
        oid.Parameters.Add(new NpgsqlParameter { Value = Sync.Jobs.SqlIdentifier.QuoteQualified(source.Table) });
        return (uint)(await oid.ExecuteScalarAsync(cancellationToken))!;
    }

    /// <summary>
    /// The columns the stream carries: pgoutput does not send generated columns, so neither the copy
    /// nor the stream reads them (a destination column generated the same way computes them); a job
    /// that names one under columns: is refused with the fix.
    /// </summary>
    private static IReadOnlyList<TableColumn> Streamed(JobSpec job, IReadOnlyList<TableColumn> table)
    {
        var reads = Sync.Jobs.TransformReads.SourceColumns(job.Transform).Concat(job.Source.PrimaryKey).ToHashSet(StringComparer.Ordinal);
        if (table.FirstOrDefault(c => c.Generated && reads.Contains(c.Name)) is { } named)
        {
            throw new SourceSchemaException(
                $"Column \"{named.Name}\" of {job.Source.Table} is generated, and the change stream does not carry generated columns; leave it out under columns: and make the destination column generated the same way, or use mode: incremental.");
        }

        return [.. table.Where(c => !c.Generated)];
    }

    private static async Task ReleaseClaimAsync(NpgsqlConnection connection, string jobName)
    {
        try
        {
            await CdcSlotClaim.ReleaseAsync(connection, jobName);
        }
        catch (Exception exception) when (exception is NpgsqlException or InvalidOperationException)
        {
            // The session is gone (the error being thrown is why), and a session's advisory locks go with it.
        }
    }

    private async Task SnapshotAsync(
        NpgsqlConnection connection, JobSpec job, SourcePlan plan, long fence, ExtractionSummary summary,
        Func<RecordBatch, CursorPosition, CancellationToken, ValueTask> onBatch, CancellationToken cancellationToken)
    {
        // No watermark: a first run, or one after a reset. Whatever slot there was is stale (CdcSlotClaim let it go).
        await CdcSlot.DropAsync(connection, job.Name, cancellationToken);
        await CdcSlot.EnsurePublicationAsync(connection, job, cancellationToken);
        if (fence > 0)
        {
            await CdcSlotClaim.MarkAsync(connection, job.Name, fence, copied: false, cancellationToken);
        }

        // The exported snapshot lives only while the replication connection stays open and idle,
        // so it stays open until the copy is done.
        await using var replication = new LogicalReplicationConnection(connections.GetConnectionString(job.Source.Connection));
        await replication.Open(cancellationToken);
        var slot = await replication.CreatePgOutputReplicationSlot(
            CdcSlot.NameOf(job.Name), slotSnapshotInitMode: LogicalSlotSnapshotInitMode.Export, cancellationToken: cancellationToken);
        var high = CdcPosition.Of(slot.ConsistentPoint);
        LogSlotCreated(CdcSlot.NameOf(job.Name), slot.ConsistentPoint.ToString());

        // The same copy as a later refresh's (PostgresChangeSource.StreamsCopy.cs), as plain rows.
        await CopyInSnapshotAsync(connection, slot.SnapshotName, [new StreamPlan(job, plan, [], 0)], high, refresh: false, summary, (_, batch, position, ct) => onBatch(batch, position, ct), cancellationToken);
        if (fence > 0)
        {
            await CdcSlotClaim.MarkAsync(connection, job.Name, fence, copied: true, cancellationToken);
        }

        summary.KeepAtLeast(high);
    }

    /// <summary>
    /// Streams from the watermark. Returns null, or the partitions a TRUNCATE of some partitions
    /// truncated (the stream stopped before that transaction, everything before it sent): the table
    /// is then copied again (<see cref="RefreshAsync"/>).
    /// </summary>
    private async Task<string?> StreamAsync(
        JobSpec job, SourcePlan plan, ValueCarry[] carries, uint tableOid, NpgsqlLogSequenceNumber watermark, ExtractionSummary summary,
        Func<RecordBatch, CursorPosition, CancellationToken, ValueTask> onBatch, CancellationToken cancellationToken)
    {
        await using var text = await TextConversion.OpenAsync(connections.Get(job.Source.Connection), job.Source.Table, plan, carries, cancellationToken);
        var clock = new RunClock();
        await using var replication = await OpenReplicationAsync(job, watermark, clock, cancellationToken);

        using var stop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        var channel = Channel.CreateBounded<SourceTransaction>(new BoundedChannelOptions(64) { SingleReader = true, SingleWriter = true });
        var decoder = new ChangeDecoder(plan, job.Source, carries, text, readsEveryColumn: job.Transform is { Columns.Count: 0, Code: null });
        var reader = new ReaderState();
        var reading = ReadAsync(replication, job, tableOid, watermark, decoder, channel.Writer, reader, stop.Token);
        var batcher = new ChangeBatcher(plan.BatchColumns, job.BatchSize, job.BatchBytes, job.Name);
        await PaceAsync(channel.Reader, reading, replication, stop, TakeAsync, () => EmitAsync(batcher.Take()!), cancellationToken, clock);

        if (batcher.Take() is { } rest)
        {
            await EmitAsync(rest);
        }

        if (reader.Truncated is { } truncated && channel.Reader.Completion.IsCompleted)
        {
            return truncated;
        }

        summary.KeepAtLeast(CdcPosition.Of(QuietEnd(replication, reader, channel.Reader.TryPeek(out _), batcher.LastEnd ?? watermark)));
        return null;

        async ValueTask<Gathered> TakeAsync(SourceTransaction transaction)
        {
            var emitted = false;
            foreach (var full in batcher.Add(transaction))
            {
                await EmitAsync(full);
                emitted = true;
            }

            return !emitted ? Gathered.Unchanged : batcher.Count > 0 ? Gathered.Restarted : Gathered.Emptied;
        }

        async ValueTask EmitAsync(RecordBatch batch)
        {
            var position = CdcPosition.Of(batcher.LastEnd ?? watermark);

            summary.Add(batch.RowCount, position);
            await onBatch(batch, position, cancellationToken);
        }
    }

    /// <summary>
    /// How far the run may move the slot. The server's keepalives carry the position its decoding has
    /// read up to, and every transaction that committed before it was sent ahead of the keepalive, the
    /// ones touching no table of the job's publication included (sent as nothing). So when the reader
    /// stopped between transactions and everything it received is in a batch, the run has seen all
    /// there is up to that position, even if the job's tables were quiet while others were written.
    /// Without this a quiet job in a busy database never moves its slot: each run decodes an ever
    /// longer stretch of WAL from the same point, the slot keeps all of it, and once that stretch takes
    /// longer than a run the job's own changes are never reached.
    /// Npgsql applies a keepalive only when the loop asks for the next message, so everything before it
    /// has been through the loop by then. Between Npgsql reading a Begin and the loop marking it, the
    /// position is that transaction's start, before its commit, so the next run streams it again.
    /// </summary>
    private static NpgsqlLogSequenceNumber QuietEnd(
        LogicalReplicationConnection replication, ReaderState reader, bool unread, NpgsqlLogSequenceNumber sent)
    {
        if (reader.InTransaction || unread)
        {
            return sent;
        }

        var received = replication.LastReceivedLsn;
        return received > sent ? received : sent;
    }

    /// <param name="markers">
    /// For a chunked first copy: the prefix of its chunks' markers, sent as logical decoding messages
    /// (pgoutput sends those only when asked to); each transaction then carries its id and its marker.
    /// </param>
    private static async Task ReadAsync(
        LogicalReplicationConnection replication, JobSpec job, uint tableOid, NpgsqlLogSequenceNumber from, ChangeDecoder decoder,
        ChannelWriter<SourceTransaction> writer, ReaderState state, CancellationToken cancellationToken, string? markers = null)
    {
        await Task.Yield();
        var slot = new PgOutputReplicationSlot(CdcSlot.NameOf(job.Name));
        var publication = new PgOutputReplicationOptions(
            CdcSlot.NameOf(job.Name), PgOutputProtocolVersion.V1, binary: true, messages: markers is null ? null : true);
        uint xid = 0;
        string? marker = null;
        await foreach (var message in replication.StartReplication(slot, publication, cancellationToken, from))
        {
            switch (message)
            {
                case RelationMessage relation:
                    decoder.Map(relation);
                    break;
                case BeginMessage begin:
                    state.InTransaction = true;
                    xid = begin.TransactionXid;
                    marker = null;
                    break;
                case LogicalDecodingMessage { Prefix: var prefix } when markers is not null && prefix.StartsWith(markers, StringComparison.Ordinal):
                    marker = prefix;
                    break;
                case InsertMessage insert:
                    decoder.AddUpsert(await decoder.ReadAsync(insert.Relation, insert.NewRow, null, cancellationToken));
                    break;
                case FullUpdateMessage full:
                    var old = await decoder.ReadAsync(full.Relation, full.OldRow, null, cancellationToken);
                    decoder.AddUpdate(old.Values, await decoder.ReadAsync(full.Relation, full.NewRow, old.Values, cancellationToken));
                    break;
                case IndexUpdateMessage keyed:
                    var oldKey = await decoder.ReadAsync(keyed.Relation, keyed.Key, null, cancellationToken);
                    decoder.AddUpdate(oldKey.Values, await decoder.ReadAsync(keyed.Relation, keyed.NewRow, null, cancellationToken));
                    break;
                case UpdateMessage update:
                    decoder.AddUpsert(await decoder.ReadAsync(update.Relation, update.NewRow, null, cancellationToken));
                    break;
                case KeyDeleteMessage delete:
                    decoder.AddDelete(await decoder.ReadAsync(delete.Relation, delete.Key, null, cancellationToken));
                    break;
                case FullDeleteMessage delete:
                    decoder.AddDelete(await decoder.ReadAsync(delete.Relation, delete.OldRow, null, cancellationToken));
                    break;
                case TruncateMessage truncate when job.Destination.Truncate == TruncateMode.Apply:
                    if (truncate.Relations.Any(r => r.RelationId == tableOid))
                    {
                        decoder.AddTruncate();
                        break;
                    }

                    // The publication holds only the table, so this is a TRUNCATE of some of its partitions.
                    // The destination cannot tell their rows apart (it need not be partitioned, and a bound read
                    // from today's catalog may not be the one the truncate met), so applying it as the whole
                    // table's would lose the other partitions' rows and leaving it would keep rows the source
                    // no longer has. The stream stops before this transaction (its changes so far are dropped
                    // with the decoder) and the run copies the table again instead: the copy's snapshot has
                    // this transaction and the ones after it up to the point the next run streams from.
                    state.Truncated = $"{string.Join(", ", truncate.Relations.Select(r => $"{r.Namespace}.{r.RelationName}"))} (in the WAL at {truncate.WalStart})";
                    writer.Complete();
                    await Task.Delay(Timeout.Infinite, cancellationToken);
                    break;
                case CommitMessage commit:
                    await writer.WriteAsync(
                        new SourceTransaction(await decoder.CompleteAsync(cancellationToken), commit.TransactionEndLsn, commit.TransactionCommitTimestamp, xid, marker),
                        cancellationToken);
                    state.InTransaction = false;
                    break;
            }
        }
    }

    // The slot stays active for a moment after the previous run's connection closed (55006, "is
    // active for PID"); the next run waits for it rather than failing. The connection reports the
    // watermark as flushed, every second: what the Coordinator committed is loaded, so the slot may
    // let go of the WAL before it. The run's clock starts now unless the slot keeps much WAL before
    // the watermark (RunClock).
    private async Task<LogicalReplicationConnection> OpenReplicationAsync(JobSpec job, NpgsqlLogSequenceNumber watermark, RunClock clock, CancellationToken cancellationToken)
    {
        var name = CdcSlot.NameOf(job.Name);
        for (var attempt = 1; ; attempt++)
        {
            var replication = new LogicalReplicationConnection(connections.GetConnectionString(job.Source.Connection));
            try
            {
                await replication.Open(cancellationToken);
                await using var probe = await connections.Get(job.Source.Connection).OpenConnectionAsync(cancellationToken);
                await using var command = new NpgsqlCommand("SELECT active, coalesce(pg_wal_lsn_diff($2, restart_lsn), 0)::bigint FROM pg_replication_slots WHERE slot_name = $1", probe);
                command.Parameters.Add(new NpgsqlParameter { Value = name });
                command.Parameters.Add(new NpgsqlParameter { Value = watermark, NpgsqlDbType = NpgsqlDbType.PgLsn });
                await using var slot = await command.ExecuteReaderAsync(cancellationToken);
                if (!await slot.ReadAsync(cancellationToken))
                {
                    throw new SourceSchemaException(
                        $"Replication slot {name} of job {job.Name} is gone (dropped by hand, or the source was restored); reset the job's watermark (DELETE /api/jobs/{job.Name}/watermark) to copy the table again.");
                }

                if (slot.GetBoolean(0) && attempt < 50)
                {
                    await replication.DisposeAsync();
                    await Task.Delay(TimeSpan.FromMilliseconds(100), cancellationToken);
                    continue;
                }

                if (slot.GetInt64(1) < RunClock.RedecodedAtOnce)
                {
                    clock.Start();
                }

                replication.SetReplicationStatus(watermark);
                replication.WalReceiverStatusInterval = TimeSpan.FromSeconds(1);
                return replication;
            }
            catch (PostgresException exception) when (exception.SqlState == ObjectInUse && attempt < 50)
            {
                await replication.DisposeAsync();
                await Task.Delay(TimeSpan.FromMilliseconds(100), cancellationToken);
            }
            catch
            {
                await replication.DisposeAsync();
                throw;
            }
        }
    }

    private async Task WarnOnLagAsync(NpgsqlConnection connection, string jobName, CancellationToken cancellationToken)
    {
        if (await CdcSlot.ReadLagAsync(connection, jobName, cancellationToken) is not { } lag)
        {
            return;
        }

        CdcTelemetry.RecordRetainedWal(jobName, lag.RetainedBytes, lag.UnconfirmedBytes);
        if (lag.RetainedBytes > _options.RetainedWalWarningBytes)
        {
            LogRetainedWal(CdcSlot.NameOf(jobName), lag.RetainedBytes, lag.UnconfirmedBytes, _options.RetainedWalWarningBytes);
        }
    }

    private static TimeSpan Min(TimeSpan a, TimeSpan b) => a < b ? a : b;

    /// <summary>
    /// A TRUNCATE of some partitions of the followed table (the stream cannot apply it), or of any table a
    /// derived job depends on (the whole query is copied, its facts derived again): the run hands
    /// over what it streamed before that transaction, then copies the whole table in the exported
    /// snapshot of a temporary slot made now, whose consistent point L is past the truncate. The copy
    /// travels as change batches after the stream's, so they apply after them: its rows as
    /// <see cref="RowOperations.Refresh"/> (upserts the Loader marks), then one
    /// <see cref="RowOperations.Sweep"/> that removes the destination rows the copy did not name. The
    /// run's high mark is L: the next run streams from it, so the transactions up to L, the truncate's
    /// among them, are in the copy and not streamed again. The destination never loses a row the
    /// source still has (upserts, then one sweep transaction), and the job goes on by itself.
    /// </summary>
    private Task RefreshAsync(
        JobSpec job, SourcePlan plan, ValueCarry[] carries, uint tableOid, ExtractionSummary summary,
        Func<RecordBatch, CursorPosition, CancellationToken, ValueTask> onBatch, CancellationToken cancellationToken) =>
        CopyAgainAsync(job, [new StreamPlan(job, plan, carries, tableOid)], CdcPosition.Of, summary, (_, batch, position, ct) => onBatch(batch, position, ct), cancellationToken);

    /// <summary>Whether the reader holds a transaction not yet handed to the batcher (received in part, or its hand-over cut off).</summary>
    private sealed class ReaderState
    {
        private volatile bool _inTransaction;
        private volatile string? _truncated;
        private volatile IReadOnlyList<int>? _truncatedStreams;

        /// <summary>The partitions a TRUNCATE of some partitions truncated: the reader stopped before its transaction.</summary>
        public string? Truncated
        {
            get => _truncated;
            set => _truncated = value;
        }

        /// <summary>Of a job with streams, the streams whose partitions <see cref="Truncated"/> names (indexes into the job's streams).</summary>
        public IReadOnlyList<int>? TruncatedStreams
        {
            get => _truncatedStreams;
            set => _truncatedStreams = value;
        }

        public bool InTransaction
        {
            get => _inTransaction;
            set => _inTransaction = value;
        }
    }

    [GeneratedRegex("^[0-9A-F]+(-[0-9A-F]+)+$")]
    private static partial Regex SnapshotName();

    [LoggerMessage(Level = LogLevel.Warning, Message = "A TRUNCATE of partition {Partitions} of {Table} cannot be applied as a change; copying the table again, then sweeping the destination rows the copy does not have")]
    private partial void LogRefreshing(string partitions, string table);

    [LoggerMessage(Level = LogLevel.Information, Message = "Created replication slot {Slot} at {ConsistentPoint}; copying the table in its snapshot")]
    private partial void LogSlotCreated(string slot, string consistentPoint);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Replication slot {Slot} retains {RetainedBytes} bytes of WAL ({UnconfirmedBytes} not yet loaded), past Cdc__RetainedWalWarningBytes = {Threshold}; the job is falling behind or stopped")]
    private partial void LogRetainedWal(string slot, long retainedBytes, long unconfirmedBytes, long threshold);
}
