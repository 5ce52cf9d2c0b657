using Microsoft.EntityFrameworkCore;
using Npgsql;

namespace Sync.Coordinator.Data;

/// <summary>
/// Applies the embedded SQL migrations (Data/Migrations/NNNN_name.sql) in order, each once, each in
/// its own transaction, under an advisory lock so that Coordinator replicas starting together
/// migrate once.
/// </summary>
internal static class ControlDatabaseMigrator
{
    private const long LockKey = 7320511;

    public static async Task MigrateAsync(CoordinatorDbContext dbContext, CancellationToken cancellationToken)
    {
        var connection = (NpgsqlConnection)dbContext.Database.GetDbConnection();
        await connection.OpenAsync(cancellationToken);
        try
        {
            await ExecuteAsync(connection, "SELECT pg_advisory_lock($1)", cancellationToken, LockKey);
            await ExecuteAsync(connection, $"CREATE TABLE IF NOT EXISTS {ControlTables.SchemaMigrations} (version text PRIMARY KEY, applied_at timestamptz NOT NULL DEFAULT now())", cancellationToken);
            var applied = new HashSet<string>(StringComparer.Ordinal);
            await using (var command = new NpgsqlCommand($"SELECT version FROM {ControlTables.SchemaMigrations}", connection))
            await using (var reader = await command.ExecuteReaderAsync(cancellationToken))
            {
                while (await reader.ReadAsync(cancellationToken))
                {
                    applied.Add(reader.GetString(0));
                }
            }

            foreach (var (version, sql) in Scripts().Where(s => !applied.Contains(s.Version)))
            {
                await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
                await ExecuteAsync(connection, sql, cancellationToken);
                await ExecuteAsync(connection, $"INSERT INTO {ControlTables.SchemaMigrations} (version) VALUES ($1)", cancellationToken, version);
                await transaction.CommitAsync(cancellationToken);
            }
        }
        finally
        {
            await ExecuteAsync(connection, "SELECT pg_advisory_unlock($1)", CancellationToken.None, LockKey);
            await connection.CloseAsync();
        }
    }

    private static IEnumerable<(string Version, string Sql)> Scripts()
    {
        var assembly = typeof(ControlDatabaseMigrator).Assembly;
        const string prefix = "Sync.Coordinator.Data.Migrations.";
        foreach (var name in assembly.GetManifestResourceNames().Where(n => n.StartsWith(prefix, StringComparison.Ordinal)).Order(StringComparer.Ordinal))
        {
            using var stream = assembly.GetManifestResourceStream(name)!;
            using var reader = new StreamReader(stream);
            yield return (name[prefix.Length..^".sql".Length], reader.ReadToEnd());
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
