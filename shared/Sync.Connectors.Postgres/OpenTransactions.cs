using System.Diagnostics;
using System.Text;
using Npgsql;

namespace Sync.Connectors.Postgres;

/// <summary>
/// Waits until every transaction open on the source database at one moment has ended: the step of
/// <see cref="CursorBound.SettledMax"/> between reading the highest visible cursor value and reading
/// up to it. Transactions are taken from their virtualxid locks, which every transaction holds from
/// its first statement, before it has an xid (nextval() assigns none: a transaction can hold a
/// sequence value that pg_current_snapshot() does not show), and from pg_prepared_xacts, which hold
/// no virtualxid once prepared. Both views are readable by any role, unlike other roles' rows of
/// pg_stat_activity.
/// </summary>
internal static class OpenTransactions
{
    private static readonly TimeSpan FirstPoll = TimeSpan.FromMilliseconds(5);
    private static readonly TimeSpan LongestPoll = TimeSpan.FromMilliseconds(200);

    // Autovacuum and walsenders (logical decoding, the cdc jobs' own slots) write no table rows.
    private const string OpenNow =
        """
        SELECT array(
            SELECT l.virtualxid FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid
            WHERE l.locktype = 'virtualxid' AND l.mode = 'ExclusiveLock' AND l.granted
              AND l.pid <> pg_backend_pid() AND a.datname = current_database()
              AND coalesce(a.backend_type, '') NOT IN ('autovacuum worker', 'autovacuum launcher', 'walsender')
              AND NOT $1
            UNION ALL
            SELECT 'prepared ' || transaction::text FROM pg_prepared_xacts WHERE database = current_database())
        """;

    private const string StillOpen =
        """
        SELECT array(
            SELECT l.virtualxid FROM pg_locks l
            WHERE l.locktype = 'virtualxid' AND l.mode = 'ExclusiveLock' AND l.granted AND l.virtualxid = ANY($1)
            UNION ALL
            SELECT 'prepared ' || transaction::text FROM pg_prepared_xacts WHERE 'prepared ' || transaction::text = ANY($1))
        """;

    /// <summary>
    /// Returns once every transaction open now has committed or rolled back, with how many there
    /// were and how long it took; throws <see cref="OpenTransactionsException"/> past <paramref name="patience"/>.
    /// </summary>
    /// <param name="onlyPrepared">Wait for prepared transactions only (a timestamptz bound covers the others).</param>
    public static async Task<SettleWait> WaitAsync(NpgsqlConnection connection, TimeSpan patience, bool onlyPrepared, CancellationToken cancellationToken)
    {
        var open = await ReadAsync(connection, OpenNow, onlyPrepared, cancellationToken);
        if (open.Length == 0)
        {
            return new SettleWait(0, TimeSpan.Zero);
        }

        var started = Stopwatch.GetTimestamp();
        var poll = FirstPoll;
        var remaining = open;
        while (true)
        {
            remaining = await ReadAsync(connection, StillOpen, remaining, cancellationToken);
            var waited = Stopwatch.GetElapsedTime(started);
            if (remaining.Length == 0)
            {
                return new SettleWait(open.Length, waited);
            }

            if (waited >= patience)
            {
                throw new OpenTransactionsException(
                    $"{remaining.Length} of the {open.Length} transactions open on the source when the run took its cursor bound were still open after {patience.TotalSeconds:0.#} s " +
                    $"({await DescribeAsync(connection, remaining, cancellationToken)}); rows they commit may carry cursor values below the bound, so the run read nothing. " +
                    "The watermark stays and the next run tries again; end those transactions, or raise PostgresSource__OpenTransactionWait.");
            }

            await Task.Delay(poll, cancellationToken);
            poll = TimeSpan.FromTicks(Math.Min(poll.Ticks * 2, LongestPoll.Ticks));
        }
    }

    private static async Task<string[]> ReadAsync(NpgsqlConnection connection, string sql, object parameter, CancellationToken cancellationToken)
    {
        await using var command = new NpgsqlCommand(sql, connection);
        command.Parameters.Add(new NpgsqlParameter { Value = parameter });

        return (string[])(await command.ExecuteScalarAsync(cancellationToken))!;
    }

    // pid, state and start where this role may see them (pg_read_all_stats), else the pid alone.
    private static async Task<string> DescribeAsync(NpgsqlConnection connection, string[] open, CancellationToken cancellationToken)
    {
        await using var command = new NpgsqlCommand(
            """
            SELECT 'pid ' || a.pid || coalesce(', ' || a.state, '') || coalesce(', open since ' || a.xact_start::text, '')
            FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid
            WHERE l.locktype = 'virtualxid' AND l.mode = 'ExclusiveLock' AND l.granted AND l.virtualxid = ANY($1)
            UNION ALL
            SELECT 'prepared transaction ' || quote_literal(gid) || ', prepared at ' || prepared::text
            FROM pg_prepared_xacts WHERE 'prepared ' || transaction::text = ANY($1)
            LIMIT 5
            """,
            connection);
        command.Parameters.Add(new NpgsqlParameter { Value = open });
        var text = new StringBuilder();
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
        {
            text.Append(text.Length == 0 ? string.Empty : "; ").Append(reader.GetString(0));
        }

        return text.Length == 0 ? "they ended meanwhile" : text.ToString();
    }
}

/// <summary>How many transactions a run waited for before reading, and for how long.</summary>
internal readonly record struct SettleWait(int Transactions, TimeSpan Waited);

/// <summary>Transactions open on the source outlasted the wait: the run cannot read safely now; a later run can.</summary>
public sealed class OpenTransactionsException(string message) : Exception(message);
