using Npgsql;

namespace Sync.Testing;

/// <summary>
/// A database of its own on the PostgreSQL that ./run test started, for one test class; dropped on
/// dispose. The server is the one <see cref="TestInfrastructure"/> names, as for the end-to-end tests.
/// </summary>
public sealed class ScratchDatabase(string name)
{
    public string ConnectionString { get; } = TestInfrastructure.ConnectionString(name);

    public string Name { get; } = name;

    /// <summary>A fresh database named <paramref name="prefix"/> plus a random suffix.</summary>
    public static async Task<ScratchDatabase> CreateAsync(string prefix)
    {
        var database = new ScratchDatabase($"{prefix}_{Guid.NewGuid():N}"[..24]);
        await TestInfrastructure.CreateDatabaseAsync(database.Name);
        return database;
    }

    public Task ExecuteAsync(string sql) => ExecuteAsync(ConnectionString, sql);

    /// <summary>The first column of the first row of <paramref name="sql"/> (a test's own query, no values).</summary>
    public async Task<object?> ScalarAsync(string sql)
    {
        await using var connection = new NpgsqlConnection(ConnectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand(sql, connection);
        return await command.ExecuteScalarAsync();
    }

    public Task DropAsync() => TestInfrastructure.DropDatabaseAsync(Name);

    private static async Task ExecuteAsync(string connectionString, string sql)
    {
        await using var connection = new NpgsqlConnection(connectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand(sql, connection);
        await command.ExecuteNonQueryAsync();
    }
}
