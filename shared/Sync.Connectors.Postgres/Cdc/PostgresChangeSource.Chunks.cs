using System.Buffers.Binary;
using System.Data;
using System.Threading.Channels;
using Microsoft.Extensions.Logging;
using Npgsql;
using Npgsql.Replication;
using NpgsqlTypes;
using Sync.Batches;
using Sync.Contracts;
using Sync.Contracts.Jobs;

namespace Sync.Connectors.Postgres.Cdc;

/// <summary>
/// A cdc job's first copy in chunks (<c>source.range_size</c>), in the manner of Netflix's DBLog: the
/// slot is made without a snapshot to copy in, and the copy goes on while the runs stream. Each
/// chunk is the next range_size rows in key order, read in a REPEATABLE READ transaction that notes
/// its snapshot, then writes a marker (a transactional logical decoding message, the chunk's high
/// watermark) and commits. When the stream reaches the marker, the chunk's rows go out there, in
/// stream order, but for those a transaction the read did not see has changed since: the stream
/// carries their newer state already (<see cref="CopyWindow"/>). So the slot moves as chunks load,
/// instead of keeping its WAL for the whole copy, and a run that dies copies again only the chunks
/// after its watermark (<see cref="CdcCopyPosition"/>).
/// </summary>
public sealed partial class PostgresChangeSource
{
    private const string MarkerPrefix = "sync.chunk ";

    // A marker's transaction waits for its commit to reach the WAL on disk whatever the source's
    // synchronous_commit: the walsender sends only flushed WAL, and with synchronous_commit = off the
    // WAL writer flushes every wal_writer_delay (200 ms), so each of a chunk's two markers could wait
    // that long on a quiet server (measured: 2–3 chunks a second instead of 15–20).
    private const string FlushedAtCommit = "set_config('synchronous_commit', 'on', true)";

    private async Task ExtractChunkedAsync(
        NpgsqlConnection connection, JobSpec job, SourcePlan plan, ValueCarry[] carries, CursorPosition? after, long fence, ExtractionSummary summary,
        Func<RecordBatch, CursorPosition, CancellationToken, ValueTask> onBatch, CancellationToken cancellationToken)
    {
        PostgresSource.CheckChunkKey(job.Source, plan);
        if (CdcCopyPosition.TryRead(after) is not { } position)
        {
            await MakeChunkedSlotAsync(connection, job, fence, summary, cancellationToken);
            return;
        }

        var tableOid = await TableOidAsync(connection, job.Source, cancellationToken);
        var truncated = position.Progress is { } progress
            ? await StreamChunkedAsync(job, plan, carries, tableOid, position.Lsn, progress, summary, onBatch, cancellationToken)
            : await StreamAsync(job, plan, carries, tableOid, position.Lsn, summary, onBatch, cancellationToken);
        if (truncated is not null)
        {
            // The copy of the whole table that follows also ends the chunked copy: its watermark is a plain LSN.
            LogRefreshing(truncated, job.Source.Table);
            await RefreshAsync(job, plan, carries, tableOid, summary, onBatch, cancellationToken);
        }
    }

    /// <summary>
    /// A first run of a chunked copy only makes the slot (under the job's slot claim, as a first run
    /// that copies in the slot's snapshot does): its watermark is the slot's consistent point with no
    /// chunk copied, and the runs after it copy.
    /// </summary>
    private async Task MakeChunkedSlotAsync(NpgsqlConnection connection, JobSpec job, long fence, ExtractionSummary summary, CancellationToken cancellationToken)
    {
        await CdcSlotClaim.AcquireAsync(connection, job.Name, cancellationToken);
        try
        {
            await CdcSlotClaim.CheckAsync(connection, job.Name, fence, cancellationToken);
            await CdcSlot.DropAsync(connection, job.Name, cancellationToken);
            await CdcSlot.EnsurePublicationAsync(connection, job, cancellationToken);
            await using var replication = new LogicalReplicationConnection(connections.GetConnectionString(job.Source.Connection));
            await replication.Open(cancellationToken);
            var slot = await replication.CreatePgOutputReplicationSlot(
                CdcSlot.NameOf(job.Name), slotSnapshotInitMode: LogicalSlotSnapshotInitMode.NoExport, cancellationToken: cancellationToken);
            if (fence > 0)
            {
                await CdcSlotClaim.MarkAsync(connection, job.Name, fence, copied: true, cancellationToken);
            }

            LogChunkedSlotCreated(CdcSlot.NameOf(job.Name), slot.ConsistentPoint.ToString(), job.Source.RangeSize);
            summary.KeepAtLeast(CdcCopyPosition.Of(slot.ConsistentPoint, new CopyProgress(null)));
        }
        finally
        {
            await ReleaseClaimAsync(connection, job.Name);
        }
    }

    /// <summary>
    /// Streams from the watermark as <see cref="StreamAsync"/> does, while a copier reads one chunk
    /// at a time after <paramref name="start"/>; each chunk's rows join the stream at its marker. The
    /// run lasts its whole <see cref="CdcOptions.RunDuration"/> while there is more to copy.
    /// </summary>
    private async Task<string?> StreamChunkedAsync(
        JobSpec job, SourcePlan plan, ValueCarry[] carries, uint tableOid, NpgsqlLogSequenceNumber watermark, CopyProgress start, ExtractionSummary summary,
        Func<RecordBatch, CursorPosition, CancellationToken, ValueTask> onBatch, CancellationToken cancellationToken)
    {
        await using var text = await TextConversion.OpenAsync(connections.Get(job.Source.Connection), job.Source.Table, plan, carries, cancellationToken);
        var clock = new RunClock();
        await using var replication = await OpenReplicationAsync(job, watermark, clock, cancellationToken);

        using var stop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        var channel = Channel.CreateBounded<SourceTransaction>(new BoundedChannelOptions(64) { SingleReader = true, SingleWriter = true });
        var decoder = new ChangeDecoder(plan, job.Source, carries, text, readsEveryColumn: job.Transform is { Columns.Count: 0, Code: null });
        var reader = new ReaderState();
        var markers = $"{MarkerPrefix}{CdcSlot.NameOf(job.Name)} ";
        var reading = ReadAsync(replication, job, tableOid, watermark, decoder, channel.Writer, reader, stop.Token, markers);
        var batcher = new ChangeBatcher(plan.BatchColumns, job.BatchSize, job.BatchBytes, job.Name);
        var window = new CopyWindow();
        var copy = new ChunkedCopy(start);
        LogCopyingChunks(job.Source.Table, start.LastKey?.ToString(System.Globalization.CultureInfo.InvariantCulture) ?? "the first key", job.Source.RangeSize);
        var copier = CopyChunksAsync(job, plan, markers, copy, clock, stop);
        await PaceAsync(channel.Reader, reading, replication, stop, TakeAsync, FlushAsync, cancellationToken, clock, busy: () => copy.Progress is not null);
        await stop.CancelAsync();
        try
        {
            await copier;
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            // The run's time is up: a chunk read but not reached by the stream is read again by the next run.
        }

        if (batcher.Take() is { } rest)
        {
            await EmitAsync(rest);
        }

        if (reader.Truncated is { } truncated && channel.Reader.Completion.IsCompleted)
        {
            return truncated;
        }

        summary.KeepAtLeast(CdcCopyPosition.Of(QuietEnd(replication, reader, channel.Reader.TryPeek(out _), batcher.LastEnd ?? watermark), copy.Progress));
        return null;

        async ValueTask<Gathered> TakeAsync(SourceTransaction transaction)
        {
            if (transaction.Marker is { } low && copy.Low is { } awaited && awaited.Marker == low)
            {
                copy.Low = null;
                awaited.Reached.TrySetResult();
            }

            if (transaction.Marker is { } marker && copy.Pending is { } chunk && chunk.Marker == marker)
            {
                transaction = transaction with { Changes = [.. transaction.Changes, .. window.Emit(chunk)] };
                copy.Pending = null;
                copy.Progress = chunk.Next;
                chunk.Emitted.TrySetResult();
            }
            else if (copy.Progress is not null)
            {
                window.Note(transaction);
            }

            var emitted = false;
            foreach (var full in batcher.Add(transaction))
            {
                await EmitAsync(full);
                emitted = true;
            }

            return !emitted ? Gathered.Unchanged : batcher.Count > 0 ? Gathered.Restarted : Gathered.Emptied;
        }

        // A chunk whose rows were all changed since its read (or the empty chunk after the last) adds a transaction without changes.
        ValueTask FlushAsync() => batcher.Take() is { } batch ? EmitAsync(batch) : ValueTask.CompletedTask;

        async ValueTask EmitAsync(RecordBatch batch)
        {
            var position = CdcCopyPosition.Of(batcher.LastEnd ?? watermark, copy.Progress);
            summary.Add(batch.RowCount, position);
            await onBatch(batch, position, cancellationToken);
        }
    }

    /// <summary>
    /// Reads chunks one at a time, each once the stream has emitted the one before, and none once the
    /// run's time is up (the pacer ends a run only between the transactions it is handed, and a chunk is
    /// always there to hand); a failure stops the run's stream.
    /// </summary>
    private async Task CopyChunksAsync(JobSpec job, SourcePlan plan, string markers, ChunkedCopy copy, RunClock clock, CancellationTokenSource stop)
    {
        try
        {
            while (copy.Progress is { } at && clock.Elapsed < _options.RunDuration)
            {
                // The low watermark: a chunk is read only once the stream has caught up with it, so its
                // high watermark comes soon after. A stream still working through a backlog reads no
                // chunk it could not reach in this run (it would be read again, and again, by every run).
                var low = new LowWatermark($"{markers}low {Guid.NewGuid():N}");
                copy.Low = low;
                await WriteMarkerAsync(job, low.Marker, stop.Token);
                await low.Reached.Task.WaitAsync(stop.Token);
                var chunk = await ReadChunkAsync(job, plan, at, markers, copy, stop.Token);
                await chunk.Emitted.Task.WaitAsync(stop.Token);
            }
        }
        catch (Exception exception) when (exception is not OperationCanceledException || !stop.IsCancellationRequested)
        {
            await stop.CancelAsync();
            throw;
        }
    }

    /// <summary>
    /// One chunk, in one REPEATABLE READ transaction: its snapshot, the next range_size rows in key
    /// order after <paramref name="at"/>, and its marker, which commits after the read (so every
    /// transaction the read saw comes before it in the stream). The chunk is pending before the commit,
    /// so the stream never meets a marker it does not know.
    /// </summary>
    private async Task<CopyChunk> ReadChunkAsync(JobSpec job, SourcePlan plan, CopyProgress at, string markers, ChunkedCopy copy, CancellationToken cancellationToken)
    {
        await using var connection = await resilience.ExecuteAsync(
            job.Source.Connection, async ct => await connections.Get(job.Source.Connection).OpenConnectionAsync(ct), cancellationToken);
        await using var transaction = await connection.BeginTransactionAsync(IsolationLevel.RepeatableRead, cancellationToken);
        CopySnapshot snapshot;
        await using (var begin = new NpgsqlCommand("SELECT pg_current_snapshot()::text, set_config('sync.key_from', coalesce($1, ''), true), " + FlushedAtCommit, connection, transaction))
        {
            begin.Parameters.Add(new NpgsqlParameter { Value = (object?)at.LastKey?.ToString(System.Globalization.CultureInfo.InvariantCulture) ?? DBNull.Value, NpgsqlDbType = NpgsqlDbType.Text });
            snapshot = CopySnapshot.Parse((string)(await begin.ExecuteScalarAsync(cancellationToken))!);
        }

        var rows = new List<RowUpserted>();
        BatchColumn?[] shape = [.. plan.BatchColumns];
        await using (var stream = await connection.BeginRawBinaryCopyAsync(
            PostgresSource.BuildChunkSql(job.Source, plan, at.LastKey is not null, job.Source.RangeSize), cancellationToken))
        {
            var reader = new CopyStreamReader(stream);
            while (await reader.ReadAsync(cancellationToken))
            {
                rows.Add(ChunkRow(reader.Current.Span, plan.Columns.Count, shape));
            }
        }

        var next = rows.Count < job.Source.RangeSize ? (CopyProgress?)null : new CopyProgress(KeyValue(rows[^1].Values[0]!));
        var chunk = new CopyChunk($"{markers}{Guid.NewGuid():N}", snapshot, rows, next);
        await using (var mark = new NpgsqlCommand("SELECT pg_logical_emit_message(true, $1, ''::text)", connection, transaction))
        {
            mark.Parameters.Add(new NpgsqlParameter { Value = chunk.Marker, NpgsqlDbType = NpgsqlDbType.Text });
            await mark.ExecuteNonQueryAsync(cancellationToken);
        }

        copy.Pending = chunk;
        await transaction.CommitAsync(cancellationToken);
        return chunk;
    }

    private async Task WriteMarkerAsync(JobSpec job, string marker, CancellationToken cancellationToken)
    {
        await using var connection = await resilience.ExecuteAsync(
            job.Source.Connection, async ct => await connections.Get(job.Source.Connection).OpenConnectionAsync(ct), cancellationToken);
        await using var mark = new NpgsqlCommand($"SELECT pg_logical_emit_message(true, $1, ''::text), {FlushedAtCommit}", connection);
        mark.Parameters.Add(new NpgsqlParameter { Value = marker, NpgsqlDbType = NpgsqlDbType.Text });
        await mark.ExecuteNonQueryAsync(cancellationToken);
    }

    // A copied row as the stream's changes are: values in plan order, keyed as ChangeDecoder keys them.
    private static RowUpserted ChunkRow(ReadOnlySpan<byte> tuple, int columns, BatchColumn?[] shape)
    {
        var fields = new FieldSlice[columns];
        new TupleReader(tuple).TryRead(fields, out var count, out _);
        var values = new byte[]?[columns];
        for (var i = 0; i < count; i++)
        {
            values[i] = fields[i].IsNull ? null : fields[i].Of(tuple).ToArray();
        }

        return new RowUpserted(values, Convert.ToHexString(values[0]!) + "|", shape);
    }

    private static long KeyValue(byte[] key) => key.Length switch
    {
        2 => BinaryPrimitives.ReadInt16BigEndian(key),
        4 => BinaryPrimitives.ReadInt32BigEndian(key),
        _ => BinaryPrimitives.ReadInt64BigEndian(key),
    };

    [LoggerMessage(Level = LogLevel.Information, Message = "Created replication slot {Slot} at {ConsistentPoint}; the next runs copy the table in chunks of {RangeSize} rows while they stream")]
    private partial void LogChunkedSlotCreated(string slot, string consistentPoint, long rangeSize);

    [LoggerMessage(Level = LogLevel.Information, Message = "Copying {Table} in chunks of {RangeSize} rows from after {Key} while streaming")]
    private partial void LogCopyingChunks(string table, string key, long rangeSize);

    /// <summary>What the stream and the copier share: the chunk whose marker is awaited, and how far the copy has been emitted.</summary>
    private sealed class ChunkedCopy(CopyProgress start)
    {
        private readonly Lock _lock = new();
        private CopyProgress? _progress = start;
        private CopyChunk? _pending;
        private LowWatermark? _low;

        /// <summary>The last key emitted; null once the last chunk is.</summary>
        public CopyProgress? Progress
        {
            get
            {
                lock (_lock)
                {
                    return _progress;
                }
            }

            set
            {
                lock (_lock)
                {
                    _progress = value;
                }
            }
        }

        public CopyChunk? Pending
        {
            get => Volatile.Read(ref _pending);
            set => Volatile.Write(ref _pending, value);
        }

        public LowWatermark? Low
        {
            get => Volatile.Read(ref _low);
            set => Volatile.Write(ref _low, value);
        }
    }

    /// <summary>A low watermark written, and whether the stream has reached it.</summary>
    private sealed record LowWatermark(string Marker)
    {
        public TaskCompletionSource Reached { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
    }
}
