using Npgsql;

namespace Sync.Connectors.Postgres;

/// <summary>
/// Watermark safety (DESIGN.md): a transaction still open may yet commit rows stamped with its
/// start time (now()), so a run of a timestamptz cursor reads only rows stamped before the start
/// of the oldest transaction open on the source. <see cref="Value"/> is that bound as timestamptz
/// text; <see cref="SeesEveryTransaction"/> says whether pg_stat_activity showed this role every
/// session's transaction start (it shows other roles' only to pg_read_all_stats and superusers).
/// </summary>
internal sealed record UpperBound(string Value, bool SeesEveryTransaction)
{
    /// <summary>
    /// Reads the bound in a statement of its own, before the run's snapshot exists. Read inside the
    /// snapshot, a writer committing between the two would be neither in the snapshot nor open when
    /// the bound is read, and its rows would fall behind the watermark. Read before it, every
    /// transaction open now bounds the run, every one that commits before the snapshot is in it,
    /// and every one that starts later stamps its rows after the bound.
    /// </summary>
    public static async Task<UpperBound> ReadAsync(NpgsqlConnection connection, CancellationToken cancellationToken)
    {
        await using var command = new NpgsqlCommand(
            """
            SELECT (SELECT LEAST(now(), min(xact_start)) FROM pg_stat_activity
                    WHERE datname = current_database() AND pid <> pg_backend_pid()
                      AND backend_type = 'client backend' AND xact_start IS NOT NULL)::text,
                   pg_has_role('pg_read_all_stats', 'USAGE')
            """,
            connection);
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        await reader.ReadAsync(cancellationToken);
        return new UpperBound(reader.GetString(0), reader.GetBoolean(1));
    }
}
