using System.Collections.Concurrent;
using Npgsql;

namespace Sync.Connectors.Postgres;

/// <summary>
/// Brings a PostgreSQL destination's bookkeeping (schema <c>sync</c>: <c>applied_batches</c>,
/// <c>job_fences</c>, <c>applied_sweeps</c>) to the version this code knows, by the embedded scripts
/// in <c>Migrations/</c>, each once and in its own transaction, recorded in
/// <c>sync.schema_migrations</c>. Runs on a process's first use of a destination connection.
/// </summary>
internal static class PostgresMigrator
{
    // The key the ensure-on-first-use code of earlier versions locked too, so during a rolling
    // upgrade an older Loader's DDL and this migration wait for each other instead of colliding.
    private const long LockKey = 7320512;

    private static readonly ConcurrentDictionary<string, bool> Migrated = new(StringComparer.Ordinal);

    public static IReadOnlyList<DestinationMigration> Migrations { get; } =
        DestinationMigration.Embedded(typeof(PostgresMigrator).Assembly, "Sync.Connectors.Postgres.Migrations.");

    /// <summary>Migrates the destination unless this process already has (per connection string).</summary>
    /// <exception cref="DestinationSchemaException">The destination is at a version newer than this code knows.</exception>
    public static async Task EnsureAsync(NpgsqlConnection connection, CancellationToken cancellationToken)
    {
        if (Migrated.ContainsKey(connection.ConnectionString))
        {
            return;
        }

        await MigrateAsync(connection, cancellationToken);
        Migrated.TryAdd(connection.ConnectionString, true);
    }

    /// <summary>
    /// Applies the migrations the destination lacks. Up to date, it only reads the version table, with
    /// no lock: DDL waits for every transaction that touched its table, so a Loader meeting a destination
    /// whose batches another Loader is applying must not issue any (RunFenceTests).
    /// </summary>
    internal static async Task MigrateAsync(NpgsqlConnection connection, CancellationToken cancellationToken)
    {
        var applied = await AppliedAsync(connection, cancellationToken);
        Refuse(connection, applied);
        foreach (var migration in Migrations.Where(m => !applied.Contains(m.Version)))
        {
            await ApplyAsync(connection, migration, cancellationToken);
        }
    }

    // Each migration in its own transaction, under a transaction-scoped advisory lock taken before the
    // version is read: Loaders starting together apply it once, the others find it applied.
    private static async Task ApplyAsync(NpgsqlConnection connection, DestinationMigration migration, CancellationToken cancellationToken)
    {
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
        await ExecuteAsync(connection, "SELECT pg_advisory_xact_lock($1)", cancellationToken, LockKey);
        var applied = await AppliedAsync(connection, cancellationToken);
        Refuse(connection, applied);
        if (applied.Count == 0)
        {
            await ExecuteAsync(
                connection,
                $"""
                CREATE SCHEMA IF NOT EXISTS {DestinationMigration.Schema};
                CREATE TABLE IF NOT EXISTS {DestinationMigration.VersionTable} (
                    version integer PRIMARY KEY,
                    name text NOT NULL,
                    applied_at timestamptz NOT NULL DEFAULT now())
                """,
                cancellationToken);
        }

        if (!applied.Contains(migration.Version))
        {
            await ExecuteAsync(connection, migration.Sql, cancellationToken);
            await ExecuteAsync(
                connection, $"INSERT INTO {DestinationMigration.VersionTable} (version, name) VALUES ($1, $2)", cancellationToken, migration.Version, migration.Name);
        }

        await transaction.CommitAsync(cancellationToken);
    }

    // The version table is looked for with a query on the catalog, not to_regclass: a query opens
    // pg_class under a lock, and taking a relation lock makes the backend read the catalog changes
    // other sessions committed meanwhile. A name lookup through the catalog cache does not, so after
    // waiting for the advisory lock, CREATE SCHEMA IF NOT EXISTS still saw "no schema sync" cached by
    // the unlocked look before it, and failed on pg_namespace's unique index (measured with six
    // concurrent migrators).
    private static async Task<HashSet<int>> AppliedAsync(NpgsqlConnection connection, CancellationToken cancellationToken)
    {
        var applied = new HashSet<int>();
        await using (var exists = new NpgsqlCommand(
            "SELECT EXISTS (SELECT FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = $1 AND c.relname = $2)",
            connection))
        {
            exists.Parameters.Add(new NpgsqlParameter { Value = DestinationMigration.Schema });
            exists.Parameters.Add(new NpgsqlParameter { Value = DestinationMigration.VersionTableName });
            if (await exists.ExecuteScalarAsync(cancellationToken) is not true)
            {
                return applied;
            }
        }

        await using var command = new NpgsqlCommand($"SELECT version FROM {DestinationMigration.VersionTable}", connection);
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
        {
            applied.Add(reader.GetInt32(0));
        }

        return applied;
    }

    private static void Refuse(NpgsqlConnection connection, HashSet<int> applied)
    {
        if (applied.Count > 0 && applied.Max() > Migrations[^1].Version)
        {
            throw DestinationMigration.Newer($"database \"{connection.Database}\" on {connection.Host}:{connection.Port}", applied.Max(), Migrations);
        }
    }

    private static async Task ExecuteAsync(NpgsqlConnection connection, string sql, CancellationToken cancellationToken, params object[] parameters)
    {
        await using var command = new NpgsqlCommand(sql, connection);
        foreach (var parameter in parameters)
        {
            command.Parameters.Add(new NpgsqlParameter { Value = parameter });
        }

        await command.ExecuteNonQueryAsync(cancellationToken);
    }
}
