using System.Runtime.CompilerServices;
using DuckDB.NET.Data;

namespace Sync.Connectors.DuckDb;

/// <summary>
/// Brings a DuckDB destination file's bookkeeping (schema <c>sync</c>: <c>applied_batches</c>,
/// <c>job_fences</c>) to the version this code knows, by the embedded scripts in <c>Migrations/</c>,
/// each once and in its own transaction, recorded in <c>sync.schema_migrations</c>. No lock is needed:
/// DuckDB lets one process write a file, and <see cref="DuckDbConnections"/> gives its one connection
/// to one load at a time.
/// </summary>
internal static class DuckDbMigrator
{
    // Per open connection rather than per path: a connection dropped after a failure (DuckDbLease.Reset)
    // may be followed by a file replaced on disk, and the check is one in-process query.
    private static readonly ConditionalWeakTable<DuckDBConnection, object> Migrated = [];

    public static IReadOnlyList<DestinationMigration> Migrations { get; } =
        DestinationMigration.Embedded(typeof(DuckDbMigrator).Assembly, "Sync.Connectors.DuckDb.Migrations.");

    /// <summary>Migrates the file unless this connection already has.</summary>
    /// <exception cref="DestinationSchemaException">The file is at a version newer than this code knows.</exception>
    public static async Task EnsureAsync(DuckDBConnection connection, CancellationToken cancellationToken)
    {
        if (Migrated.TryGetValue(connection, out _))
        {
            return;
        }

        await MigrateAsync(connection, cancellationToken);
        Migrated.AddOrUpdate(connection, true);
    }

    internal static async Task MigrateAsync(DuckDBConnection connection, CancellationToken cancellationToken)
    {
        await DuckDbDestination.ExecuteAsync(
            connection,
            $"""
            CREATE SCHEMA IF NOT EXISTS sync;
            CREATE TABLE IF NOT EXISTS {DestinationMigration.VersionTable} (
                version INTEGER PRIMARY KEY, name VARCHAR NOT NULL, applied_at TIMESTAMPTZ NOT NULL DEFAULT current_timestamp)
            """,
            cancellationToken);
        var applied = new HashSet<int>();
        await using (var command = DuckDbDestination.Command(connection, $"SELECT version FROM {DestinationMigration.VersionTable}", []))
        await using (var reader = await command.ExecuteReaderAsync(cancellationToken))
        {
            while (await reader.ReadAsync(cancellationToken))
            {
                applied.Add(reader.GetInt32(0));
            }
        }

        if (applied.Count > 0 && applied.Max() > Migrations[^1].Version)
        {
            throw DestinationMigration.Newer($"DuckDB file {connection.DataSource}", applied.Max(), Migrations);
        }

        foreach (var migration in Migrations.Where(m => !applied.Contains(m.Version)))
        {
            await DuckDbDestination.ExecuteAsync(connection, "BEGIN TRANSACTION", cancellationToken);
            try
            {
                await DuckDbDestination.ExecuteAsync(connection, migration.Sql, cancellationToken);
                await DuckDbDestination.ExecuteAsync(
                    connection, $"INSERT INTO {DestinationMigration.VersionTable} (version, name) VALUES ($1, $2)", cancellationToken, migration.Version, migration.Name);
                await DuckDbDestination.ExecuteAsync(connection, "COMMIT", cancellationToken);
            }
            catch (Exception failure)
            {
                await DuckDbDestination.RollbackAfterAsync(connection, failure);
                throw;
            }
        }
    }
}
