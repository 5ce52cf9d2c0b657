using System.Diagnostics;
using System.Threading.Channels;
using Npgsql;
using Npgsql.Replication;
using Sync.Contracts;
using Sync.Contracts.Jobs;

namespace Sync.Connectors.Postgres.Cdc;

/// <summary>What a run does with its stream and its first copy, the same for a table and a derived job.</summary>
public sealed partial class PostgresChangeSource
{
    // While a run's clock waits for the server to catch up, how often it looks at the connection's position.
    private static readonly TimeSpan CatchUpLook = TimeSpan.FromMilliseconds(20);

    /// <summary>What taking one transaction did to the batch being gathered.</summary>
    private enum Gathered
    {
        /// <summary>Added to it; nothing sent.</summary>
        Unchanged,

        /// <summary>Full batches were sent and a new one holds the rest.</summary>
        Restarted,

        /// <summary>Everything gathered was sent.</summary>
        Emptied,
    }

    /// <summary>
    /// A first run (no watermark): under the job's slot claim (<see cref="CdcSlotClaim"/>), makes the
    /// slot anew and copies the source in the snapshot it exported.
    /// </summary>
    private async Task CopyFirstAsync(
        NpgsqlConnection connection, JobSpec job, SourcePlan plan, long fence, ExtractionSummary summary,
        Func<RecordBatch, CursorPosition, CancellationToken, ValueTask> onBatch, CancellationToken cancellationToken)
    {
        await CdcSlotClaim.AcquireAsync(connection, job.Name, cancellationToken);
        try
        {
            await CdcSlotClaim.CheckAsync(connection, job.Name, fence, cancellationToken);
            await SnapshotAsync(connection, job, plan, fence, summary, onBatch, cancellationToken);
        }
        finally
        {
            await ReleaseClaimAsync(connection, job.Name);
        }
    }

    /// <summary>
    /// The timing of a run's stream: <paramref name="take"/>s each transaction the reader decoded as it
    /// arrives; <paramref name="flush"/>es what is gathered once it is <see cref="CdcOptions.FlushInterval"/>
    /// old; ends at <see cref="CdcOptions.RunDuration"/> on the run's <paramref name="clock"/>, after
    /// <see cref="CdcOptions.IdleEnd"/> without a transaction while nothing is gathered, or when the reader
    /// ends. Then confirms the watermark at once and stops the reader: a transaction it cut off was not
    /// sent and comes with the next run. While <paramref name="busy"/> says so (a chunked first copy still
    /// copying), a quiet slot does not end the run.
    /// </summary>
    private async Task PaceAsync<T>(
        ChannelReader<T> transactions,
        Task reading,
        LogicalReplicationConnection replication,
        CancellationTokenSource stop,
        Func<T, ValueTask<Gathered>> take,
        Func<ValueTask> flush,
        CancellationToken cancellationToken,
        RunClock clock,
        Func<bool>? busy = null)
    {
        long? batchStarted = null;
        long? lastTransaction = null;
        var paced = false;
        try
        {
            while (true)
            {
                while (transactions.TryRead(out var transaction))
                {
                    lastTransaction = Stopwatch.GetTimestamp();
                    batchStarted ??= lastTransaction;
                    batchStarted = await take(transaction) switch
                    {
                        Gathered.Restarted => Stopwatch.GetTimestamp(),
                        Gathered.Emptied => null,
                        _ => batchStarted,
                    };
                }

                if (batchStarted is { } since && Stopwatch.GetElapsedTime(since) >= _options.FlushInterval)
                {
                    await flush();
                    batchStarted = null;
                }

                // Past the watermark, which the connection reports as flushed (OpenReplicationAsync): the
                // keepalive the server sends as it starts carries the slot's older confirmed position.
                if (!clock.IsStarted && (lastTransaction is not null || replication.LastReceivedLsn > replication.LastFlushedLsn || clock.Waited >= _options.CatchUpLimit))
                {
                    clock.Start();
                }

                var elapsed = clock.Elapsed;
                var idle = lastTransaction is { } last ? Stopwatch.GetElapsedTime(last) : (TimeSpan?)null;
                // The reader ends its channel when the stream cannot go on as changes (a TRUNCATE of some partitions).
                if (elapsed >= _options.RunDuration || (batchStarted is null && idle >= _options.IdleEnd && busy?.Invoke() != true) || reading.IsCompleted || transactions.Completion.IsCompleted)
                {
                    paced = true;
                    break;
                }

                var wait = _options.RunDuration - elapsed;
                if (batchStarted is { } open)
                {
                    wait = Min(wait, _options.FlushInterval - Stopwatch.GetElapsedTime(open));
                }
                else if (idle is { } quiet && busy?.Invoke() != true)
                {
                    wait = Min(wait, _options.IdleEnd - quiet);
                }

                if (!clock.IsStarted)
                {
                    // A keepalive shows only in the connection's position: look again soon.
                    wait = Min(wait, CatchUpLook);
                }

                using var timer = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
                timer.CancelAfter(wait < TimeSpan.Zero ? TimeSpan.Zero : wait);
                await Task.WhenAny(transactions.WaitToReadAsync(timer.Token).AsTask(), reading);
            }
        }
        finally
        {
            // Not when the run is failing: nothing it read is loaded, and the failure is what it reports.
            if (paced && !reading.IsCompleted)
            {
                await ConfirmAsync(replication);
            }

            await stop.CancelAsync();
            try
            {
                await reading;
            }
            catch (Exception exception) when (stop.IsCancellationRequested && !cancellationToken.IsCancellationRequested && EndedByStop(exception))
            {
                // The run's time is up; a transaction cut off here was not sent and comes with the next run.
                // The stop may land inside a tuple being read: Npgsql then breaks the replication stream, and
                // the reader fails on the disposed socket instead of with a cancellation.
            }
        }
    }

    /// <summary>
    /// A run's time. It starts when the server has caught up with the run's watermark, not when the
    /// stream opens, if the slot keeps much WAL before the watermark: a new replication connection first
    /// decodes that again, sending nothing (the slot keeps WAL back to the oldest transaction, of any
    /// database, that was open when it last moved). On a busy server that takes seconds; a run timed
    /// from the open could spend its whole time there, stream little or nothing, and leave the next run
    /// as far behind (CI, 7 December: a chunked copy under other tests' load made no progress in 190
    /// runs of 1 s). Then the clock starts at the first thing the server sends past the watermark: a
    /// transaction, or a keepalive once its decoding has caught up; at the latest after
    /// <see cref="CdcOptions.CatchUpLimit"/>.
    /// </summary>
    private sealed class RunClock
    {
        /// <summary>Less WAL than this before the watermark is decoded again in a few tens of milliseconds: the clock starts at once.</summary>
        public const long RedecodedAtOnce = 16L << 20;

        private readonly long _opened = Stopwatch.GetTimestamp();
        private long _started;

        public bool IsStarted => Volatile.Read(ref _started) != 0;

        /// <summary>The run's time so far; zero until started.</summary>
        public TimeSpan Elapsed => Volatile.Read(ref _started) is var started and not 0 ? Stopwatch.GetElapsedTime(started) : TimeSpan.Zero;

        /// <summary>Since the clock was made, as the stream opened.</summary>
        public TimeSpan Waited => Stopwatch.GetElapsedTime(_opened);

        public void Start() => Interlocked.CompareExchange(ref _started, Stopwatch.GetTimestamp(), 0);
    }

    /// <summary>
    /// Confirms the watermark now rather than at the next periodic status update; nothing depends on
    /// it (the next run confirms it too). The stream may be ending meanwhile: the chunk copier stops it
    /// when a chunk read fails, and the reader's task completes only after Npgsql has stopped its feedback
    /// timers, when a status update fails with a NullReferenceException (Npgsql 10.0.3), or with an
    /// InvalidOperationException once the connection has left replication. Such a failure must not
    /// stand for the run's: what ended the stream shows when the reader, or the copier, is awaited
    /// (CI, 7 December: a run failed with that NullReferenceException instead).
    /// </summary>
    internal static async Task ConfirmAsync(LogicalReplicationConnection replication)
    {
        try
        {
            await replication.SendStatusUpdate(CancellationToken.None);
        }
        catch (Exception exception) when (exception is NullReferenceException or InvalidOperationException or ObjectDisposedException or NpgsqlException)
        {
            // The stream had ended: there is nothing to confirm on it.
        }
    }

    /// <summary>Whether the reader failed because the run's stop cancelled it, whatever layer reported it.</summary>
    private static bool EndedByStop(Exception exception) =>
        exception is OperationCanceledException
        || exception is NpgsqlException { InnerException: ObjectDisposedException or OperationCanceledException or IOException or TimeoutException };
}
