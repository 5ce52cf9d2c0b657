using System.Diagnostics;
using System.Threading.Channels;
using Microsoft.Extensions.Logging;
using Npgsql;
using Npgsql.Replication;
using Npgsql.Replication.PgOutput;
using Npgsql.Replication.PgOutput.Messages;
using NpgsqlTypes;
using Sync.Contracts;
using Sync.Contracts.Jobs;

namespace Sync.Connectors.Postgres.Cdc;

/// <summary>
/// A derived job: a query with depends_on, read by cdc. One slot and one publication cover every
/// table it depends on. The first run copies the whole query in the slot's exported snapshot, as a
/// table's first run copies the table. Later runs read the dependencies' changes (their key columns
/// only, <see cref="FactKeyReader"/>), gather the facts they name up to a transaction boundary, and
/// derive exactly those again (<see cref="DerivedFacts"/>); the batch's position is the end LSN of the
/// last transaction gathered, committed by the Coordinator after the load and confirmed to the slot
/// by the next run, as for a table. A TRUNCATE of a dependency names no rows: the run stops before its
/// transaction and derives every fact again in a new snapshot, as refresh rows and a sweep (<see cref="RefreshAsync"/>).
/// </summary>
public sealed partial class PostgresChangeSource
{
    private async Task<ExtractionSummary> ExtractDerivedAsync(
        NpgsqlConnection connection, JobSpec job, CursorPosition? after, long fence,
        Func<RecordBatch, CursorPosition, CancellationToken, ValueTask> onBatch, CancellationToken cancellationToken)
    {
        var dependencyOf = await DependencyOidsAsync(connection, job, cancellationToken);
        await CdcReplicaIdentity.CheckAsync(connection, job, cancellationToken);
        IReadOnlyList<TableColumn> columns;
        await using (var schema = await connection.BeginTransactionAsync(cancellationToken))
        {
            await using var readOnly = new NpgsqlCommand("SET TRANSACTION READ ONLY", connection, schema);
            await readOnly.ExecuteNonQueryAsync(cancellationToken);
            columns = await PostgresSchema.GetQueryColumnsAsync(connection, job.Source.Query!, cancellationToken);
            await schema.CommitAsync(cancellationToken);
        }

        var plan = SourcePlan.Resolve(job.Source with { Cursor = job.Source.PrimaryKey[0] }, job.Transform, columns);
        await WarnOnLagAsync(connection, job.Name, cancellationToken);
        var summary = new ExtractionSummary();
        if (CdcPosition.TryRead(after) is not { } lsn)
        {
            await CopyFirstAsync(connection, job, plan, fence, summary, onBatch, cancellationToken);
        }
        else if (await StreamDerivedAsync(connection, job, plan, new FactKeyReader(job.Source.DependsOn!, dependencyOf), lsn, summary, onBatch, cancellationToken) is { } truncated)
        {
            LogDerivingAll(truncated, job.Name);
            await RefreshAsync(job, plan, [], 0, summary, onBatch, cancellationToken);
        }

        return summary;
    }

    /// <summary>Each dependency table's OID (a partition's changes come under its root's, see <see cref="CdcSlot.EnsurePublicationAsync"/>).</summary>
    private static async Task<IReadOnlyDictionary<uint, int>> DependencyOidsAsync(NpgsqlConnection connection, JobSpec job, CancellationToken cancellationToken)
    {
        var oids = new Dictionary<uint, int>();
        var dependencies = job.Source.DependsOn!;
        for (var d = 0; d < dependencies.Count; d++)
        {
            await using var command = new NpgsqlCommand("SELECT to_regclass($1)::oid", connection);
            command.Parameters.Add(new NpgsqlParameter { Value = Sync.Jobs.SqlIdentifier.QuoteQualified(dependencies[d].Table) });
            if (await command.ExecuteScalarAsync(cancellationToken) is not uint oid)
            {
                throw new SourceSchemaException($"Table {dependencies[d].Table} of depends_on does not exist; fix the table name (the one the query reads), or create the table.");
            }

            oids[oid] = d;
        }

        return oids;
    }

    /// <summary>
    /// Streams from the watermark. Returns null, or the tables a TRUNCATE of a dependency truncated (the
    /// stream stopped before that transaction, the facts of everything before it sent).
    /// </summary>
    private async Task<string?> StreamDerivedAsync(
        NpgsqlConnection connection, JobSpec job, SourcePlan plan, FactKeyReader keys, NpgsqlLogSequenceNumber watermark, ExtractionSummary summary,
        Func<RecordBatch, CursorPosition, CancellationToken, ValueTask> onBatch, CancellationToken cancellationToken)
    {
        var clock = new RunClock();
        await using var replication = await OpenReplicationAsync(job, watermark, clock, cancellationToken);

        using var stop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        var channel = Channel.CreateBounded<KeyTransaction>(new BoundedChannelOptions(64) { SingleReader = true, SingleWriter = true });
        var reader = new ReaderState();
        var reading = ReadKeysAsync(replication, job, keys, watermark, channel.Writer, reader, stop.Token);
        var changed = new ChangedKeySet(job.Source.DependsOn!.Count);
        NpgsqlLogSequenceNumber? lastEnd = null;
        DateTimeOffset? oldestCommit = null;
        await PaceAsync(channel.Reader, reading, replication, stop, TakeAsync, DeriveAsync, cancellationToken, clock);

        if (lastEnd is not null)
        {
            await DeriveAsync();
        }

        if (reader.Truncated is { } truncated && channel.Reader.Completion.IsCompleted)
        {
            return truncated;
        }

        summary.KeepAtLeast(CdcPosition.Of(QuietEnd(replication, reader, channel.Reader.TryPeek(out _), lastEnd ?? watermark)));
        return null;

        async ValueTask<Gathered> TakeAsync(KeyTransaction transaction)
        {
            oldestCommit ??= transaction.CommittedAt;
            foreach (var key in transaction.Keys)
            {
                changed.Add(key);
            }

            lastEnd = transaction.EndLsn;
            if (changed.Count < job.BatchSize)
            {
                return Gathered.Unchanged;
            }

            await DeriveAsync();
            return Gathered.Emptied;
        }

        // Derives the gathered facts; with none (changes that name no fact) the position still moves.
        async ValueTask DeriveAsync()
        {
            if (lastEnd is not { } end)
            {
                return;
            }

            var position = CdcPosition.Of(end);
            if (changed.Count > 0)
            {
                await DerivedFacts.DeriveAsync(connection, job, plan, changed, async (batch, ct) =>
                {
                    if (oldestCommit is { } committed)
                    {
                        CdcTelemetry.RecordLag(job.Name, DateTimeOffset.UtcNow - committed);
                    }

                    summary.Add(batch.RowCount, position);
                    await onBatch(batch, position, ct);
                }, cancellationToken);
            }

            summary.KeepAtLeast(position);

            changed.Clear();
            oldestCommit = null;
        }
    }

    private static async Task ReadKeysAsync(
        LogicalReplicationConnection replication, JobSpec job, FactKeyReader keys, NpgsqlLogSequenceNumber from,
        ChannelWriter<KeyTransaction> writer, ReaderState state, CancellationToken cancellationToken)
    {
        await Task.Yield();
        var slot = new PgOutputReplicationSlot(CdcSlot.NameOf(job.Name));
        // Text mode: only the key columns are read, as text, and handed to the server again as parameters.
        var publication = new PgOutputReplicationOptions(CdcSlot.NameOf(job.Name), PgOutputProtocolVersion.V1, binary: false);
        var changes = new List<ChangedKey>();
        await foreach (var message in replication.StartReplication(slot, publication, cancellationToken, from))
        {
            switch (message)
            {
                case RelationMessage relation:
                    keys.Map(relation);
                    break;
                case BeginMessage:
                    state.InTransaction = true;
                    break;
                case InsertMessage insert:
                    changes.Add(await keys.ReadAsync(insert.Relation, insert.NewRow, null, cancellationToken));
                    break;
                case FullUpdateMessage full:
                    var old = await keys.ReadAsync(full.Relation, full.OldRow, null, cancellationToken);
                    changes.Add(old);
                    changes.Add(await keys.ReadAsync(full.Relation, full.NewRow, old, cancellationToken));
                    break;
                case IndexUpdateMessage keyed:
                    var oldKey = await keys.ReadAsync(keyed.Relation, keyed.Key, null, cancellationToken);
                    changes.Add(oldKey);
                    changes.Add(await keys.ReadAsync(keyed.Relation, keyed.NewRow, oldKey, cancellationToken));
                    break;
                case UpdateMessage update:
                    changes.Add(await keys.ReadAsync(update.Relation, update.NewRow, null, cancellationToken));
                    break;
                case KeyDeleteMessage delete:
                    changes.Add(await keys.ReadAsync(delete.Relation, delete.Key, null, cancellationToken));
                    break;
                case FullDeleteMessage delete:
                    changes.Add(await keys.ReadAsync(delete.Relation, delete.OldRow, null, cancellationToken));
                    break;
                case TruncateMessage truncate:
                    // A truncated table names no rows, so the facts it fed cannot be told apart and derived
                    // again one by one. The stream stops before this transaction (its keys so far are dropped)
                    // and the run derives every fact again instead: the new snapshot has this transaction and
                    // the ones after it up to the point the next run streams from.
                    state.Truncated = $"{string.Join(", ", truncate.Relations.Select(r => $"{r.Namespace}.{r.RelationName}"))} (in the WAL at {truncate.WalStart})";
                    writer.Complete();
                    await Task.Delay(Timeout.Infinite, cancellationToken);
                    break;
                case CommitMessage commit:
                    await writer.WriteAsync(new KeyTransaction([.. changes], commit.TransactionEndLsn, commit.TransactionCommitTimestamp), cancellationToken);
                    changes.Clear();
                    state.InTransaction = false;
                    break;
            }
        }
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "A TRUNCATE of {Tables}, which job {Job} depends on, names no rows; deriving every fact again, then sweeping the facts the query no longer returns")]
    private partial void LogDerivingAll(string tables, string job);
}
