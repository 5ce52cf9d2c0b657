using System.Security.Cryptography;
using System.Text;
using Npgsql;
using Sync.Contracts.Jobs;
using Sync.Jobs;

namespace Sync.Connectors.Postgres.Cdc;

/// <summary>
/// The replication slot and publication of a cdc job, both named by <see cref="NameOf"/>, and the
/// checks a source must pass before either is made.
/// </summary>
public static class CdcSlot
{
    private const int MaxName = 63;
    private const int HashedPrefix = 40;

    /// <summary>
    /// <c>sync_&lt;job&gt;</c> for a job name of letters, digits and single '_' that fits PostgreSQL's
    /// 63-byte limit (the names Sync always gave, so running jobs keep their slots); otherwise
    /// <c>sync_&lt;first 40, '-' as '_'&gt;__&lt;16 hex of SHA-256(job)&gt;</c>. Job names start with a letter,
    /// so a plain name never holds "__" and a hashed one always does: two jobs never share a slot
    /// (before, a-b and a_b both became sync_a_b).
    /// </summary>
    public static string NameOf(string jobName)
    {
        var plain = "sync_" + jobName;
        if (plain.Length <= MaxName && !jobName.Contains('-', StringComparison.Ordinal) && !jobName.Contains("__", StringComparison.Ordinal))
        {
            return plain;
        }

        var hash = Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(jobName)).AsSpan(0, 8));
        var prefix = jobName.Replace('-', '_');
        return $"sync_{prefix[..Math.Min(prefix.Length, HashedPrefix)]}__{hash}";
    }

    /// <summary>Throws <see cref="SourceSchemaException"/> naming the fix when the source cannot serve logical replication to this role.</summary>
    public static async Task CheckSourceAsync(NpgsqlConnection connection, string connectionName, CancellationToken cancellationToken)
    {
        await using var command = new NpgsqlCommand(
            "SELECT current_setting('wal_level'), r.rolreplication OR r.rolsuper, current_user FROM pg_roles r WHERE r.rolname = current_user",
            connection);
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        await reader.ReadAsync(cancellationToken);
        var walLevel = reader.GetString(0);
        var replication = reader.GetBoolean(1);
        var role = reader.GetString(2);
        if (walLevel != "logical")
        {
            throw new SourceSchemaException(
                $"The source of connection \"{connectionName}\" has wal_level={walLevel}; mode: cdc needs wal_level=logical (ALTER SYSTEM SET wal_level = logical, then restart PostgreSQL).");
        }

        if (!replication)
        {
            throw new SourceSchemaException(
                $"Role \"{role}\" of connection \"{connectionName}\" lacks the REPLICATION privilege that mode: cdc needs to read a replication slot (ALTER ROLE \"{role}\" WITH REPLICATION).");
        }
    }

    /// <summary>
    /// Creates the job's publication for its table, or points an existing one at it; a job with streams
    /// publishes all of its streams' tables (each partition's changes under its own name). A derived job's
    /// publication holds every table it depends on, one slot for them all, so the changes of all of them
    /// come in one commit order; it publishes a partition's changes as its root table's
    /// (publish_via_partition_root), which is the name depends_on gives.
    /// </summary>
    public static async Task EnsurePublicationAsync(NpgsqlConnection connection, JobSpec job, CancellationToken cancellationToken)
    {
        var name = NameOf(job.Name);
        await using var exists = new NpgsqlCommand("SELECT count(*) FROM pg_publication WHERE pubname = $1", connection);
        exists.Parameters.Add(new NpgsqlParameter { Value = name });
        var create = (long)(await exists.ExecuteScalarAsync(cancellationToken))! == 0;
        var derived = job.Source.DependsOn is not null;
        var tables = string.Join(", ", (job.Streams?.Select(s => s.Source.Table) ?? job.Source.DependsOn?.Select(d => d.Table) ?? [job.Source.Table]).Select(SqlIdentifier.QuoteQualified));
        var options = derived ? " WITH (publish_via_partition_root = true)" : string.Empty;
        var sql = create
            ? $"CREATE PUBLICATION {SqlIdentifier.Quote(name)} FOR TABLE {tables}{options}"
            : $"ALTER PUBLICATION {SqlIdentifier.Quote(name)} SET TABLE {tables}";
        await using (var command = new NpgsqlCommand(sql, connection))
        {
            await command.ExecuteNonQueryAsync(cancellationToken);
        }

        if (!create && derived)
        {
            await using var root = new NpgsqlCommand($"ALTER PUBLICATION {SqlIdentifier.Quote(name)} SET (publish_via_partition_root = true)", connection);
            await root.ExecuteNonQueryAsync(cancellationToken);
        }
    }

    /// <summary>Drops the job's slot (when no one reads it) and publication, if they exist: a reset watermark or a removed job.</summary>
    public static async Task DropAsync(NpgsqlConnection connection, string jobName, CancellationToken cancellationToken)
    {
        var name = NameOf(jobName);
        await using (var slot = new NpgsqlCommand(
            "SELECT pg_drop_replication_slot(slot_name) FROM pg_replication_slots WHERE slot_name = $1 AND NOT active", connection))
        {
            slot.Parameters.Add(new NpgsqlParameter { Value = name });
            await slot.ExecuteNonQueryAsync(cancellationToken);
        }

        await using var publication = new NpgsqlCommand($"DROP PUBLICATION IF EXISTS {SqlIdentifier.Quote(name)}", connection);
        await publication.ExecuteNonQueryAsync(cancellationToken);
    }

    /// <summary>How far the slot is behind the server: WAL it retains (bytes) and not yet confirmed (bytes); null when it does not exist.</summary>
    public static async Task<(long RetainedBytes, long UnconfirmedBytes)?> ReadLagAsync(NpgsqlConnection connection, string jobName, CancellationToken cancellationToken)
    {
        await using var command = new NpgsqlCommand(
            """
            SELECT coalesce(pg_wal_lsn_diff(pg_current_wal_lsn(), restart_lsn), 0)::bigint,
                   coalesce(pg_wal_lsn_diff(pg_current_wal_lsn(), confirmed_flush_lsn), 0)::bigint
            FROM pg_replication_slots WHERE slot_name = $1
            """,
            connection);
        command.Parameters.Add(new NpgsqlParameter { Value = NameOf(jobName) });
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        return await reader.ReadAsync(cancellationToken) ? (reader.GetInt64(0), reader.GetInt64(1)) : null;
    }
}
