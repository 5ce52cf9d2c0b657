using Microsoft.Extensions.Configuration;
using Npgsql;

namespace Sync.Connectors.Tests;

/// <summary>A database of its own on the PostgreSQL that ./run test started, for one test class; dropped on dispose.</summary>
internal sealed class ScratchDatabase(string name)
{
    private static string Server => Environment.GetEnvironmentVariable("SYNC_PG_CONNECTION") is { Length: > 0 } value
        ? value
        : "Host=127.0.0.1;Port=55432;Username=sync;Password=sync";

    public string ConnectionString { get; } = new NpgsqlConnectionStringBuilder(Server) { Database = name }.ConnectionString;

    private static string Maintenance => new NpgsqlConnectionStringBuilder(Server) { Database = "postgres" }.ConnectionString;

    /// <summary>A fresh database named <paramref name="prefix"/> plus a random suffix.</summary>
    public static async Task<ScratchDatabase> CreateAsync(string prefix)
    {
        var database = new ScratchDatabase($"{prefix}_{Guid.NewGuid():N}"[..24]);
        await ExecuteAsync(Maintenance, $"CREATE DATABASE \"{database.Name}\"");
        return database;
    }

    public string Name { get; } = name;

    public Task ExecuteAsync(string sql) => ExecuteAsync(ConnectionString, sql);

    /// <summary>A connection catalog in which each of <paramref name="names"/> is this database (dispose it before <see cref="DropAsync"/>).</summary>
    public ConnectionCatalog Catalog(params string[] names) =>
        new(new ConfigurationBuilder()
            .AddInMemoryCollection(names.ToDictionary(n => $"Connections:{n}", _ => (string?)ConnectionString))
            .Build());

    /// <summary>The first column of the first row of <paramref name="sql"/> (a test's own query, no values).</summary>
    public async Task<object?> ScalarAsync(string sql)
    {
        await using var connection = new NpgsqlConnection(ConnectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand(sql, connection);
        return await command.ExecuteScalarAsync();
    }

    public async Task DropAsync()
    {
        NpgsqlConnection.ClearAllPools();
        await ExecuteAsync(Maintenance, $"DROP DATABASE IF EXISTS \"{Name}\" WITH (FORCE)");
    }

    private static async Task ExecuteAsync(string connectionString, string sql)
    {
        await using var connection = new NpgsqlConnection(connectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand(sql, connection);
        await command.ExecuteNonQueryAsync();
    }
}
